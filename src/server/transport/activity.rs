//! What one connection is doing, shared by its socket wrapper, its request service, its
//! watchdog and the connection cap: when bytes last moved, whether a request is being handled or
//! answered, and the signal that closes it to make room.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

pub struct Activity {
    /// The server's start; times below are milliseconds since then.
    epoch: Instant,
    last_io_ms: AtomicU64,
    /// When the connection last had no request in progress (opened, or a response finished).
    idle_since_ms: AtomicU64,
    /// Requests whose handler is running (reading the body, working, producing the response).
    handling: AtomicUsize,
    /// Responses whose body is still being sent.
    responding: AtomicUsize,
    /// Whether any request reached the service on this connection.
    dispatched: AtomicBool,
    /// Notified when the connection cap closes this connection to make room.
    pub shed: Notify,
}

impl Activity {
    pub fn new(epoch: Instant) -> Self {
        let now = ms_since(epoch, Instant::now());
        Activity {
            epoch,
            last_io_ms: AtomicU64::new(now),
            idle_since_ms: AtomicU64::new(now),
            handling: AtomicUsize::new(0),
            responding: AtomicUsize::new(0),
            dispatched: AtomicBool::new(false),
            shed: Notify::new(),
        }
    }

    /// Bytes were read or written just now.
    pub fn touch(&self) {
        self.last_io_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// When bytes last moved.
    pub fn last_io(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed))
    }

    /// A request reached the service: its handler runs until the guard is dropped.
    pub fn start_handling(self: &Arc<Self>) -> Busy {
        self.dispatched.store(true, Ordering::Relaxed);
        self.handling.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    pub fn start_responding(&self) {
        self.responding.fetch_add(1, Ordering::AcqRel);
    }

    pub fn finish_responding(&self) {
        self.responding.fetch_sub(1, Ordering::AcqRel);
        self.became_idle();
    }

    pub fn handling(&self) -> bool {
        self.handling.load(Ordering::Acquire) > 0
    }

    pub fn dispatched(&self) -> bool {
        self.dispatched.load(Ordering::Relaxed)
    }

    /// Since when the connection has had no request in progress; `None` while it has one.
    pub fn idle_since(&self) -> Option<u64> {
        let busy = self.handling.load(Ordering::Acquire) + self.responding.load(Ordering::Acquire);
        (busy == 0).then(|| self.idle_since_ms.load(Ordering::Relaxed))
    }

    fn became_idle(&self) {
        self.idle_since_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn now_ms(&self) -> u64 {
        ms_since(self.epoch, Instant::now())
    }
}

fn ms_since(epoch: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

/// A handler in progress; dropping it (the response is ready, or the request was abandoned)
/// ends it.
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::AcqRel);
        self.0.became_idle();
    }
}
