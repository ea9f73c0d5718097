//! Brute-force counters: invalid API keys per client address, in a window that starts at the
//! client's first failure and lasts `window_ms`. Counted by one atomic upsert, so every replica
//! on the database draws on the same budget.

use super::{Pool, query};

/// A client's window after counting one more failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Window {
    /// Unix time in milliseconds.
    pub window_start: i64,
    pub failures: i64,
}

/// Counts one failure of `client` at `now_ms` (Unix milliseconds): a window older than
/// `window_ms` starts afresh with this failure.
pub async fn record(
    pool: &Pool,
    client: &str,
    now_ms: i64,
    window_ms: i64,
) -> sqlx::Result<Window> {
    query(
        "INSERT INTO auth_failures (client, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (client) DO UPDATE SET \
         window_start = CASE WHEN auth_failures.window_start <= $3 \
             THEN excluded.window_start ELSE auth_failures.window_start END, \
         failures = CASE WHEN auth_failures.window_start <= $3 \
             THEN 1 ELSE auth_failures.failures + 1 END \
         RETURNING window_start, failures",
    )
    .bind(client)
    .bind(now_ms)
    .bind(now_ms - window_ms)
    .fetch_one(&mut pool.acquire_writer().await?)
    .await
}

/// Forgets the windows that ended before `before_ms`.
pub async fn delete_ended(pool: &Pool, before_ms: i64) -> sqlx::Result<u64> {
    Ok(query("DELETE FROM auth_failures WHERE window_start <= $1")
        .bind(before_ms)
        .execute(&mut pool.acquire_writer().await?)
        .await?
        .rows_affected())
}
