//! What the operator sees of a device's life in the field (`GET /v1/devices/{device}/status`,
//! printed by `fleet device show`): its last check-in, what it runs, its update state and
//! history. Kept apart from [`super::Device`] so device list pages stay one cheap query.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::device_api::{DeviceUpdate, RunningArtifact};
use super::ids::DeviceId;

/// Reports `history` holds at most, newest first.
pub const STATUS_HISTORY: u32 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceStatus {
    pub device_id: DeviceId,
    pub identifier: String,
    /// When the device last checked in (written within a moment of the check-in); `null` if
    /// it never did.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Seen within twice the check-in interval.
    pub online: bool,
    /// The client address of its last check-in.
    pub last_address: Option<String>,
    pub check_ins: u64,
    pub reported_target: Option<String>,
    pub boot_id: Option<String>,
    pub uptime_s: Option<u64>,
    pub config_revision: Option<i64>,
    /// The device's free-form status object from its last check-in.
    pub status: Option<serde_json::Value>,
    /// What it runs, by artifact.
    pub running: Vec<RunningArtifact>,
    /// Its latest update state.
    pub update: Option<DeviceUpdate>,
    /// Its newest update reports, newest first (at most 20).
    pub history: Vec<DeviceUpdate>,
}
