//! Idempotency keys: the first request with a key claims it, its response is stored, and a retry
//! with the same key and request gets that response back.

use chrono::{DateTime, Utc};

use super::{Pool, begin_write, query};
use crate::api::OrgId;

/// What a write with an `Idempotency-Key` should do.
pub enum Claim {
    /// First use of the key: run the request, then `complete` (or `release` on failure).
    Fresh,
    /// The same request ran before: send this response again.
    Replay {
        status: u16,
        headers: String,
        body: Vec<u8>,
    },
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InProgress,
}

#[derive(sqlx::FromRow)]
struct Stored {
    request_hash: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
}

/// Claims `key` for a request hashing to `request_hash`. Records older than `expired_before` are
/// dropped first, so a key can be reused after its retention window.
pub async fn claim(
    pool: &Pool,
    org_id: &OrgId,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> sqlx::Result<Claim> {
    let mut tx = begin_write(pool).await?;
    query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(expired_before)
        .execute(&mut tx)
        .await?;
    let existing: Option<Stored> = query(
        "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE org_id = $1 AND key = $2",
    )
    .bind(org_id.as_str())
    .bind(key)
    .fetch_optional(&mut tx)
    .await?;
    let claim = match existing {
        Some(stored) if stored.request_hash != request_hash => Claim::Mismatch,
        Some(Stored {
            status: Some(status),
            headers,
            body,
            ..
        }) => Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            headers: headers.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
        Some(_) => Claim::InProgress,
        None => {
            query(
                "INSERT INTO idempotency_keys (org_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(org_id.as_str())
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .execute(&mut tx)
            .await?;
            Claim::Fresh
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the response of the request that claimed `key`.
pub async fn complete(
    pool: &Pool,
    org_id: &OrgId,
    key: &str,
    status: u16,
    headers: &str,
    body: &[u8],
) -> sqlx::Result<()> {
    query("UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 WHERE org_id = $4 AND key = $5")
        .bind(i64::from(status))
        .bind(headers)
        .bind(body)
        .bind(org_id.as_str())
        .bind(key)
        .execute(&mut pool.acquire_writer().await?)
        .await?;
    Ok(())
}

/// Gives `key` up after a failure the client should be able to retry (a 5xx).
pub async fn release(pool: &Pool, org_id: &OrgId, key: &str) -> sqlx::Result<()> {
    query("DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND status IS NULL")
        .bind(org_id.as_str())
        .bind(key)
        .execute(&mut pool.acquire_writer().await?)
        .await?;
    Ok(())
}
