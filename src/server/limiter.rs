//! Brute-force protection: counts presented-but-invalid API keys per client address and answers
//! 429 to a client's invalid keys once it has guessed too often in one window (a valid key is
//! always accepted: see `auth::authenticate`). The client address is the peer's, or the one a
//! trusted reverse proxy forwarded (`transport::client_ip`).
//!
//! The count is in the database (`store::auth_failures`, one atomic upsert per invalid key), so
//! every replica draws on one budget per client: N replicas do not allow N times the guesses.
//! Once the database says a client is over budget, this replica remembers until when and
//! refuses that client's further invalid keys without writing, so a flood of guesses costs at
//! most one write per allowed guess. Requests without any key are not counted (they cannot be
//! guesses), and valid keys cost no write.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::store::{self, Pool};

/// Invalid keys one client may present per window before it is refused, unless the operator
/// sets another budget (`fleet server --auth-failures-per-minute`).
pub const DEFAULT_MAX_FAILURES: u32 = 10;
/// The window, from a client's first failure; a blocked client waits at most this long.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Past this many clients known to be blocked, those whose block ended are forgotten.
const PRUNE_AT: usize = 10_000;

pub struct FailureLimiter {
    max_failures: u32,
    /// Clients the database said are over budget, and until when (by this replica's clock).
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    /// When ended windows were last deleted from the database.
    cleaned: Mutex<Option<Instant>>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(DEFAULT_MAX_FAILURES)
    }
}

impl FailureLimiter {
    /// A limiter that refuses a client once it presented `max_failures` invalid keys in one
    /// window.
    pub fn new(max_failures: u32) -> Self {
        FailureLimiter {
            max_failures,
            blocked: Mutex::default(),
            cleaned: Mutex::default(),
        }
    }

    /// Counts one invalid key from `ip`; `Some(wait)` when that puts it over its budget (the
    /// request is refused with 429 and `Retry-After: wait`). A database failure counts nothing
    /// and refuses nothing: the key is refused as invalid either way.
    pub async fn record_failure(&self, pool: &Pool, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        if let Some(wait) = self.known_block(ip, now) {
            return Some(wait);
        }
        self.clean_up(pool, now, store::now()).await;
        match count(pool, ip, store::now(), self.max_failures).await {
            Ok(Some(wait)) => {
                self.remember_block(ip, now, wait);
                Some(wait)
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, client = %ip, "could not count an invalid API key");
                None
            }
        }
    }

    fn known_block(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut blocked = lock(&self.blocked);
        let until = *blocked.get(&ip)?;
        if until > now {
            return Some(until - now);
        }
        blocked.remove(&ip);
        None
    }

    fn remember_block(&self, ip: IpAddr, now: Instant, wait: Duration) {
        let mut blocked = lock(&self.blocked);
        if blocked.len() >= PRUNE_AT {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(ip, now + wait);
    }

    /// Deletes ended windows, at most once a window per replica: the table holds only clients
    /// that failed lately.
    async fn clean_up(&self, pool: &Pool, now: Instant, wall: DateTime<Utc>) {
        {
            let mut cleaned = lock(&self.cleaned);
            if cleaned.is_some_and(|at| now.duration_since(at) < WINDOW) {
                return;
            }
            *cleaned = Some(now);
        }
        let before = wall.timestamp_millis() - window_ms();
        if let Err(err) = store::auth_failures::delete_ended(pool, before).await {
            tracing::warn!(error = %err, "could not delete ended brute-force windows");
        }
    }
}

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// Counts one failure of `ip` at `now` in the database; `Some(wait)` when the client is now
/// over `max_failures` in its window, `wait` being what is left of that window.
async fn count(
    pool: &Pool,
    ip: IpAddr,
    now: DateTime<Utc>,
    max_failures: u32,
) -> sqlx::Result<Option<Duration>> {
    let now_ms = now.timestamp_millis();
    let window = store::auth_failures::record(pool, &ip.to_string(), now_ms, window_ms()).await?;
    if window.failures <= i64::from(max_failures) {
        return Ok(None);
    }
    let left_ms = (window.window_start + window_ms() - now_ms).clamp(0, window_ms());
    Ok(Some(Duration::from_millis(
        u64::try_from(left_ms).unwrap_or_default(),
    )))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::seconds(seconds)
    }

    #[tokio::test]
    async fn blocks_after_max_failures_until_the_window_ends() {
        for (_guard, pool) in store::test_pools::all().await {
            let ip: IpAddr = [10, 0, 0, 1].into();
            let other: IpAddr = [10, 0, 0, 2].into();
            let max = DEFAULT_MAX_FAILURES;
            for _ in 0..max {
                assert_eq!(count(&pool, ip, at(0), max).await.expect("count"), None);
            }
            assert_eq!(
                count(&pool, ip, at(20), max).await.expect("count"),
                Some(Duration::from_secs(40)),
                "over budget: refused for the rest of the window"
            );
            assert_eq!(count(&pool, other, at(20), max).await.expect("count"), None);
            assert_eq!(
                count(&pool, ip, at(60), max).await.expect("count"),
                None,
                "a new window starts afresh"
            );
        }
    }

    #[tokio::test]
    async fn ended_windows_are_deleted() {
        for (_guard, pool) in store::test_pools::all().await {
            let ip: IpAddr = [10, 0, 0, 3].into();
            count(&pool, ip, at(0), 2).await.expect("count");
            let before = |seconds: i64| at(seconds).timestamp_millis() - window_ms();
            let deleted = store::auth_failures::delete_ended(&pool, before(59))
                .await
                .expect("delete");
            assert_eq!(deleted, 0, "the window is still running");
            let deleted = store::auth_failures::delete_ended(&pool, before(60))
                .await
                .expect("delete");
            assert_eq!(deleted, 1);
        }
    }

    #[tokio::test]
    async fn the_budget_is_configurable() {
        for (_guard, pool) in store::test_pools::all().await {
            let ip: IpAddr = [10, 0, 0, 1].into();
            assert_eq!(count(&pool, ip, at(0), 2).await.expect("count"), None);
            assert_eq!(count(&pool, ip, at(0), 2).await.expect("count"), None);
            assert_eq!(
                count(&pool, ip, at(0), 2).await.expect("count"),
                Some(WINDOW)
            );
        }
    }
}
