//! The device side of updates: check-ins (recorded in coalesced batches by the check-in
//! writer), which update a device is offered (its cohort's current release, by a deterministic
//! rollout), downloads of offered binaries, update reports, and the operator's view of all of
//! it. The shared part of the service state lives in [`DeviceUpdates`].

pub mod check_in;
pub mod contexts;
pub mod download;
pub mod links;
pub mod offer;
pub mod reports;
pub mod rollout;
pub mod status;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use crate::server::store::Pool;

/// How often devices are told to check in by default: every 5 minutes.
pub const DEFAULT_CHECK_IN_INTERVAL: Duration = Duration::from_secs(300);

/// A device is online while its last check-in is at most this many check-in intervals old:
/// two, so one missed check-in (a reboot, a flaky link) does not count as offline.
pub const ONLINE_INTERVALS: u32 = 2;

/// The device-update part of the service state.
#[derive(Debug)]
pub struct DeviceUpdates {
    /// Writes check-in statuses in batches.
    pub writer: Arc<writer::CheckInWriter>,
    /// The binaries of each (bundle, target) offered lately.
    pub bundles: offer::BundleCache,
    /// Devices' check-in contexts under the current offers epoch.
    pub contexts: contexts::ContextCache,
    /// Where offers send devices for the bytes: the device API, or presigned store URLs.
    pub links: links::DownloadLinks,
    /// What devices are told in `next_check_in_s`.
    pub check_in_interval: Duration,
    /// Merged configurations and compiled schemas (configurations reach devices at check-in).
    pub configs: Arc<crate::server::domain::configs::ConfigCaches>,
    /// A check-in's answer waits until its status is written (tests that read it back right
    /// after; a deployment leaves it off).
    pub wait_for_writes: bool,
}

impl DeviceUpdates {
    pub fn new(pool: Pool, settings: writer::WriterSettings, check_in_interval: Duration) -> Self {
        DeviceUpdates {
            writer: Arc::new(writer::CheckInWriter::new(pool, settings)),
            bundles: offer::BundleCache::default(),
            contexts: contexts::ContextCache::default(),
            links: links::DownloadLinks::default(),
            configs: Arc::default(),
            check_in_interval,
            wait_for_writes: false,
        }
    }

    /// How long since its last check-in a device still counts as online.
    pub fn online_within(&self) -> Duration {
        self.check_in_interval * ONLINE_INTERVALS
    }
}
