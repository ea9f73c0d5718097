//! Device certificates: the X.509 client certificates a device authenticates with, registered
//! by an operator or recorded when a device first presented one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CaId, DeviceCertId, DeviceId};

/// Longest certificate PEM the service reads (a CA's or a device's), in characters; the
/// OpenAPI `maxLength` of those fields repeats it (utoipa takes only a literal).
pub const MAX_PEM_CHARS: usize = 65536;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceCertificate {
    pub id: DeviceCertId,
    pub device_id: DeviceId,
    /// The device's identifier at the time of reading.
    pub device: String,
    /// The registered CA it chains to, if any (gone when that CA was deleted).
    pub ca_id: Option<CaId>,
    /// Lowercase hex SHA-256 of the certificate's DER; unique in the whole service.
    pub fingerprint: String,
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// The serial number in lowercase hex.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub source: DeviceCertSource,
    pub created_at: DateTime<Utc>,
    /// Set once revoked; a revoked certificate admits nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

/// How the service learned of a device certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceCertSource {
    /// An operator added it (`fleet device cert add`).
    Registered,
    /// Recorded the first time the device presented it.
    Presented,
}

impl DeviceCertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceCertSource::Registered => "registered",
            DeviceCertSource::Presented => "presented",
        }
    }

    pub fn parse(value: &str) -> Option<DeviceCertSource> {
        match value {
            "registered" => Some(DeviceCertSource::Registered),
            "presented" => Some(DeviceCertSource::Presented),
            _ => None,
        }
    }
}

/// `POST /v1/devices/{device}/certificates`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddDeviceCert {
    /// One X.509 certificate in PEM whose subject CN is the device's identifier, issued by a
    /// CA of the device's product.
    #[cfg_attr(feature = "server", schema(max_length = 65536))] // MAX_PEM_CHARS
    pub certificate: String,
}

/// `POST /v1/devices/{device}/certificates/{cert}/revoke`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeDeviceCert {
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
