//! The service's clock: the system's, or a manual one that tests set and advance, so time-driven
//! behaviour (rollout steps, the firmware sweep) is tested without waiting or reading wall time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Cloning shares the clock: advancing a manual clock moves every copy.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `start` until it is advanced or set.
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(start))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => crate::server::store::now(),
            Some(time) => *time.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward by `by`; `false` (and nothing changes) on the system clock.
    pub fn advance(&self, by: Duration) -> bool {
        let Some(time) = &self.0 else {
            return false;
        };
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut time = time.lock().unwrap_or_else(|e| e.into_inner());
        *time = time.checked_add_signed(by).unwrap_or(*time);
        true
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_copies_share_it() {
        let start: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().expect("time");
        let clock = Clock::manual(start);
        let copy = clock.clone();
        assert_eq!(clock.now(), start);
        assert!(copy.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), start + chrono::Duration::hours(1));
        assert!(!Clock::system().advance(Duration::from_secs(1)));
    }
}
