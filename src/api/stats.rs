//! Fleet statistics (`GET …/stats` of a product, a cohort or a release, printed by `fleet
//! product stats`, `fleet cohort stats` and `fleet release status`): device counts, connection
//! figures, firmware versions and update progress. One shape for the three scopes; the field
//! names are stable (scripts read them with `-o json`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CohortId, ProductId, ReleaseId};

/// Hours in [`Connection::check_ins_per_hour`].
pub const CHECK_IN_HOURS: usize = 24;
/// Versions listed per artifact in [`ArtifactVersions::versions`]; the rest are summed in
/// `other_versions`.
pub const MAX_VERSIONS: usize = 20;
/// Failure reasons listed per release in [`ReleaseUpdates::failure_reasons`].
pub const MAX_FAILURE_REASONS: usize = 5;

/// The statistics of one scope: a product, one of its cohorts, or one release (whose devices
/// are its cohort's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Stats {
    pub scope: StatsScope,
    /// The moment the figures are relative to ("seen in the last hour" is before this).
    pub generated_at: DateTime<Utc>,
    pub devices: DeviceCounts,
    pub connection: Connection,
    /// One entry per artifact the scope's devices report running, most devices first.
    pub firmware: Vec<ArtifactVersions>,
    /// For a product: the current (newest) release of each cohort; for a cohort: its current
    /// release; for a release: that release. Newest first.
    pub updates: Vec<ReleaseUpdates>,
    /// How many of the scope's devices run their latest effective configuration; absent when
    /// nothing is configured for the product (and for a release's statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<super::config::ConfigStats>,
}

/// What the figures are about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StatsScope {
    pub product_id: ProductId,
    pub product: String,
    /// Set for a cohort's and a release's statistics.
    pub cohort_id: Option<CohortId>,
    pub cohort: Option<String>,
    /// Set for a release's statistics.
    pub release_id: Option<ReleaseId>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceCounts {
    /// Every device of the scope.
    pub total: u64,
    /// Devices in no cohort (always 0 for a cohort or a release).
    pub without_cohort: u64,
    pub quarantined: u64,
    /// Devices moved to this product that have not yet presented a certificate of it.
    pub needs_provisioning: u64,
    /// Devices per cohort, by cohort name (every cohort of the scope, also empty ones).
    pub per_cohort: Vec<CohortCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CohortCount {
    pub cohort_id: CohortId,
    pub cohort: String,
    pub devices: u64,
}

/// When the scope's devices last checked in. Every count is of devices, each counted once per
/// field; a device seen in the last hour is also counted as seen in the last 24 hours and 7
/// days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Connection {
    /// How recent a check-in keeps a device online: the service's check-in interval times the
    /// intervals a device may miss (the same rule as `fleet device list --online`).
    pub online_within_s: u64,
    /// Devices whose last check-in is at most `online_within_s` old.
    pub online: u64,
    pub seen_last_hour: u64,
    pub seen_last_24h: u64,
    pub seen_last_7d: u64,
    /// Devices that never checked in.
    pub never_seen: u64,
    /// The start of the first hour of `check_ins_per_hour` (a whole UTC hour).
    pub check_ins_since: DateTime<Utc>,
    /// Check-ins in each of the last 24 hours, oldest first; the last entry is the current
    /// hour so far. Counted when the check-in is written, for the device's cohort then.
    pub check_ins_per_hour: Vec<u64>,
}

/// The versions of one artifact across the scope's devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ArtifactVersions {
    pub artifact: String,
    /// Most devices first (equal counts by version), at most 20.
    pub versions: Vec<VersionCount>,
    /// Devices running a version not listed (past the 20 with most devices).
    pub other_versions: u64,
    /// Devices that report nothing for this artifact (or never checked in).
    pub unknown: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VersionCount {
    pub version: String,
    pub devices: u64,
    /// `devices` over the scope's device total, 0–1.
    pub share: f64,
}

/// How far the devices offered one release got. Each device is counted once, in the furthest
/// state it reported for the release (downloading < installing < failed = rolled back <
/// succeeded; between failed and rolled back the later report counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReleaseUpdates {
    pub release_id: ReleaseId,
    pub cohort_id: CohortId,
    pub cohort: String,
    pub bundle: String,
    pub rollout_percent: u8,
    pub required: bool,
    /// Devices the release was offered to at a check-in, or that reported on it.
    pub offered: u64,
    /// Offered, and reported nothing yet.
    pub pending: u64,
    pub downloading: u64,
    pub installing: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub rolled_back: u64,
    /// `succeeded` over the devices that finished (`succeeded + failed + rolled_back`), 0–1;
    /// `null` before any device finished.
    pub success_rate: Option<f64>,
    /// The most common reasons of the devices now `failed` or `rolled_back`, most first (at
    /// most 5); a report without a reason counts as "no reason given".
    pub failure_reasons: Vec<FailureReason>,
    /// The median time from a device's first offer to its `succeeded` report, in
    /// milliseconds; `null` when no device with a recorded offer succeeded.
    pub median_offer_to_success_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FailureReason {
    pub reason: String,
    pub devices: u64,
}

/// The reason of a failure reported without one.
pub const NO_REASON: &str = "no reason given";
