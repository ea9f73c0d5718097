//! Brute-force protection: counts presented-but-invalid API keys per client IP and answers 429
//! to a client's invalid keys once it has guessed too often in one window (a valid key is
//! always accepted: see `auth::authenticate`). The client IP is the peer's, or the one a trusted
//! reverse proxy forwarded (`transport::client_ip`).
//!
//! The count is in memory and per replica: a guesser spread over N replicas gets N times the
//! budget, which still keeps guessing a 256-bit key hopeless while costing no database write per
//! failure. Requests without any key are not counted (they cannot be guesses).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Invalid keys one client may present per window before it is refused, unless the operator
/// sets another budget (`fleet server --auth-failures-per-minute`).
pub const DEFAULT_MAX_FAILURES: u32 = 10;
/// The window; a blocked client waits at most this long.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked clients, expired entries are dropped on the next failure.
const PRUNE_AT: usize = 10_000;

pub struct FailureLimiter {
    max_failures: u32,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(DEFAULT_MAX_FAILURES)
    }
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    /// A limiter that refuses a client once it presented `max_failures` invalid keys in one
    /// window.
    pub fn new(max_failures: u32) -> Self {
        FailureLimiter {
            max_failures,
            clients: Mutex::default(),
        }
    }

    /// `Some(wait)` when `ip` has used up its failures in the current window.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.lock();
        let window = clients.get(&ip)?;
        let ends = window.started + WINDOW;
        (window.failures >= self.max_failures && now < ends).then(|| ends - now)
    }

    /// Counts one invalid key from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) {
        let mut clients = self.lock();
        if clients.len() >= PRUNE_AT {
            clients.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = clients.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_ends() {
        let limiter = FailureLimiter::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        for _ in 0..DEFAULT_MAX_FAILURES - 1 {
            limiter.record_failure(ip, t0);
        }
        assert_eq!(limiter.blocked(ip, t0), None);
        limiter.record_failure(ip, t0);
        assert_eq!(
            limiter.blocked(ip, t0 + Duration::from_secs(20)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(limiter.blocked(other, t0), None);
        assert_eq!(limiter.blocked(ip, t0 + WINDOW), None);
        limiter.record_failure(ip, t0 + WINDOW);
        assert_eq!(
            limiter.blocked(ip, t0 + WINDOW),
            None,
            "a new window starts afresh"
        );
    }

    #[test]
    fn the_budget_is_configurable() {
        let limiter = FailureLimiter::new(2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        limiter.record_failure(ip, t0);
        assert_eq!(limiter.blocked(ip, t0), None);
        limiter.record_failure(ip, t0);
        assert_eq!(limiter.blocked(ip, t0), Some(WINDOW));
    }
}
