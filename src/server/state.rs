//! The state every handler shares: the database pool and request limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::auth_epoch::EpochReader;
use super::key_cache::KeyCache;
use super::limiter::FailureLimiter;
use super::store::Pool;
use super::store::bulk::FailAfterRows;

/// Cloned several times per request (every layer and `State` extractor), so it is one pointer:
/// cloning a handful of `Arc`s instead cost measurable time under load on two cores.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub pool: Pool,
    pub max_body_bytes: usize,
    /// When each API key's `last_used_at` was last written, so a busy key costs one write a
    /// minute rather than one per request.
    pub key_touched: Arc<Mutex<HashMap<String, Instant>>>,
    /// Recently authenticated keys, each trusted only while the database's API key epoch is
    /// the one it was loaded under.
    pub keys: Arc<KeyCache>,
    /// Fresh reads of that epoch, shared by concurrent requests.
    pub epoch: Arc<EpochReader>,
    /// Invalid API keys per client IP, for brute-force protection.
    pub limiter: Arc<FailureLimiter>,
    /// Settings of the bulk routes.
    pub bulk: BulkLimits,
    /// Blob store and part size of firmware uploads (in memory until `Server::open` sets the
    /// data dir's store).
    pub firmware: Arc<super::domain::firmware::Firmware>,
    /// Check-in writer, offer cache and check-in settings of the device API.
    pub device_updates: Arc<super::domain::device_updates::DeviceUpdates>,
    /// "Now" for rollout steps and the sweep (a manual clock in tests).
    pub clock: super::clock::Clock,
    /// How often the rollout controller evaluates.
    pub rollout_interval: std::time::Duration,
}

/// The bulk routes' own body limit, and the failure injection of the tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct BulkLimits {
    pub max_body_bytes: usize,
    pub fail_after_rows: FailAfterRows,
}

impl AppState {
    pub fn new(pool: Pool, max_body_bytes: usize) -> Self {
        let keys = Arc::new(KeyCache::default());
        let device_updates = Arc::new(super::domain::device_updates::DeviceUpdates::new(
            pool.clone(),
            super::domain::device_updates::writer::WriterSettings::default(),
            super::domain::device_updates::DEFAULT_CHECK_IN_INTERVAL,
        ));
        AppState(Arc::new(Shared {
            device_updates,
            epoch: EpochReader::new(pool.clone(), Arc::clone(&keys)),
            pool,
            max_body_bytes,
            key_touched: Arc::default(),
            keys,
            limiter: Arc::default(),
            bulk: BulkLimits {
                max_body_bytes,
                fail_after_rows: FailAfterRows::default(),
            },
            firmware: Arc::new(super::domain::firmware::Firmware::in_memory()),
            clock: super::clock::Clock::system(),
            rollout_interval: super::DEFAULT_ROLLOUT_INTERVAL,
        }))
    }

    /// For setting up before the state is shared (a copy is made if it already is).
    pub fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// The same state with another request body limit.
    pub fn with_max_body_bytes(&self, max_body_bytes: usize) -> AppState {
        let mut shared = Shared::clone(&self.0);
        shared.max_body_bytes = max_body_bytes;
        AppState(Arc::new(shared))
    }
}
