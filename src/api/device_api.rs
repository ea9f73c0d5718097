//! The device API's wire types: what a device sends and receives on the mutual-TLS listener
//! (`fleet server --device-listen`). A device is known by its client certificate; these bodies
//! never name the device. `fleet simulate` and the service share them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{BinaryId, BundleId, DeviceId, ReleaseId, SigningKeyId};

/// `POST`: what the device runs and how it is; answered with [`CheckInAnswer`].
pub const CHECK_IN_PATH: &str = "/v1/device/check-in";
/// `POST`: an [`UpdateReport`]; answered with the device's [`DeviceUpdate`].
pub const REPORTS_PATH: &str = "/v1/device/reports";
/// `GET`: an offered binary's bytes (`Range` supported); followed by the binary ID.
pub const BINARIES_PATH: &str = "/v1/device/binaries";
/// `GET`: authenticates the device and does nothing else (the benchmark's baseline).
pub const PING_PATH: &str = "/v1/device/ping";
/// Header carrying the lowercase hex SHA-256 of the whole binary on a download.
pub const SHA256_HEADER: &str = "x-fleet-sha256";

/// One artifact the device runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunningArtifact {
    /// Artifact name, e.g. `app`.
    pub artifact: String,
    pub version: String,
    /// Lowercase hex SHA-256 of the installed binary, when the device knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// `POST /v1/device/check-in`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// Every artifact the device runs, one entry per artifact.
    #[serde(default)]
    pub running: Vec<RunningArtifact>,
    /// Hardware target triple the device reports for itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Changes on every boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<u64>,
    /// Revision of the configuration the device applied last (the `revision` of the
    /// answer's `config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_revision: Option<i64>,
    /// The configuration the device was sent and could not apply; the service sends that
    /// revision no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_failure: Option<ConfigFailure>,
    /// Free-form status object, kept as the device's latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// The answer to a check-in: who the service thinks the device is, the one update it should
/// take now (or none), and when to check in next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CheckInAnswer {
    pub device_id: DeviceId,
    pub identifier: String,
    pub product: String,
    pub cohort: Option<String>,
    pub update: Option<UpdateOffer>,
    /// The device's effective configuration, when it differs from the one it reported
    /// applying (absent otherwise, and when nothing is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<DeliveredConfig>,
    /// Seconds until the next check-in.
    pub next_check_in_s: u32,
}

/// A device's effective configuration (product ← cohort ← device, secrets included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeliveredConfig {
    /// What the device reports as `config_revision` once it applied it: a fingerprint of the
    /// document, equal for equal documents.
    pub revision: i64,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub document: serde_json::Map<String, serde_json::Value>,
}

/// A configuration the device could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigFailure {
    pub revision: i64,
    /// Why, in the device's words (at most 1,024 characters).
    pub reason: String,
}

/// The release a device should install: its bundle's binaries for the device's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UpdateOffer {
    pub release_id: ReleaseId,
    pub bundle_id: BundleId,
    pub bundle: String,
    /// Devices must install it (no opting out).
    pub required: bool,
    pub binaries: Vec<OfferedBinary>,
}

/// One binary of an offered bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OfferedBinary {
    pub binary_id: BinaryId,
    pub artifact: String,
    pub version: String,
    pub target: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    pub signatures: Vec<OfferedSignature>,
    /// Where to download it: a path on the device API (`/v1/device/binaries/{id}`), or an
    /// absolute, short-lived URL of the object store.
    pub url: String,
}

/// An Ed25519 signature over the binary's SHA-256 digest, with the key that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OfferedSignature {
    pub key_id: SigningKeyId,
    pub key_name: String,
    /// Standard base64 of the 32-byte public key.
    pub public_key: String,
    /// Standard base64 of the 64-byte signature.
    pub signature: String,
}

/// Where a device is in taking a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    Downloading,
    Installing,
    Succeeded,
    Failed,
    RolledBack,
}

impl UpdateState {
    pub const fn as_str(self) -> &'static str {
        match self {
            UpdateState::Downloading => "downloading",
            UpdateState::Installing => "installing",
            UpdateState::Succeeded => "succeeded",
            UpdateState::Failed => "failed",
            UpdateState::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<UpdateState> {
        [
            UpdateState::Downloading,
            UpdateState::Installing,
            UpdateState::Succeeded,
            UpdateState::Failed,
            UpdateState::RolledBack,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    /// A state after which no report about the same release changes anything.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            UpdateState::Succeeded | UpdateState::Failed | UpdateState::RolledBack
        )
    }
}

/// `POST /v1/device/reports`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateReport {
    pub release_id: ReleaseId,
    pub state: UpdateState,
    /// Why, for `failed` and `rolled_back`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A device's latest update state for one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceUpdate {
    pub release_id: ReleaseId,
    pub state: UpdateState,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}
