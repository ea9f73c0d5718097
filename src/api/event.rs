//! Audit events: one per write and per refused attempt, append-only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::EventId;
use super::page::{PagedQuery, push_page_pairs};

/// How an audited attempt ended: the one outcome type of the API and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventResult {
    Ok,
    /// Refused: unknown/revoked/expired key, role or product scope.
    Denied,
    /// The table and the API know it; no write records a failure yet (a failed write rolls
    /// back, its event with it).
    Failed,
}

impl EventResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EventResult::Ok => "ok",
            EventResult::Denied => "denied",
            EventResult::Failed => "failed",
        }
    }
}

/// What an audit event records, `<resource>.<verb>` on the wire and in the table: every write
/// names its action from this list, so a typo cannot invent a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ApiKeyCreated,
    ApiKeyRevoked,
    ArtifactCreated,
    AuthDenied,
    /// An unfinished upload was given up: by a caller, or by the service once it expired.
    BinaryAbandoned,
    BinaryCreated,
    BinaryPartReceived,
    BinaryReady,
    BinaryRestarted,
    BinarySigned,
    BundleCreated,
    CaCreated,
    CaDeleted,
    CaUpdated,
    CohortCreated,
    CohortDeleted,
    CohortUpdated,
    /// A new revision of a product's, cohort's or device's configuration.
    ConfigUpdated,
    /// A new revision made of an earlier one's document.
    ConfigRolledBack,
    ConfigSchemaUpdated,
    ConfigSchemaDeleted,
    DeviceCohortAssigned,
    DeviceCohortUnassigned,
    DeviceCertAdded,
    DeviceCertRevoked,
    DeviceCreated,
    DeviceDeleted,
    DeviceMoved,
    /// A device was admitted by the device API: by JITP, or again after a move.
    DeviceProvisioned,
    /// The device API refused a certificate (unknown CA, expired, revoked, disabled CA, ...).
    DeviceRefused,
    DeviceUpdated,
    FirmwarePolicyUpdated,
    /// A product was archived (`archived` went to true), with or without other changes.
    ProductArchived,
    ProductCreated,
    ProductDeleted,
    /// An archived product was taken out of the archive.
    ProductUnarchived,
    ProductUpdated,
    /// A release's schedule took its next step.
    ReleaseAdvanced,
    ReleaseCreated,
    /// A release stopped being offered to new devices: by its guard, or by a person.
    ReleaseHalted,
    /// A person moved a release's rollout up now.
    ReleasePromoted,
    ReleaseResumed,
    ReleaseUpdated,
    SigningKeyCreated,
    SigningKeyDeleted,
    VersionCreated,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::ApiKeyRevoked => "api_key.revoked",
            AuditAction::ArtifactCreated => "artifact.created",
            AuditAction::AuthDenied => "auth.denied",
            AuditAction::BinaryAbandoned => "binary.abandoned",
            AuditAction::BinaryCreated => "binary.created",
            AuditAction::BinaryPartReceived => "binary.part_received",
            AuditAction::BinaryReady => "binary.ready",
            AuditAction::BinaryRestarted => "binary.restarted",
            AuditAction::BinarySigned => "binary.signed",
            AuditAction::BundleCreated => "bundle.created",
            AuditAction::CaCreated => "ca.created",
            AuditAction::CaDeleted => "ca.deleted",
            AuditAction::CaUpdated => "ca.updated",
            AuditAction::CohortCreated => "cohort.created",
            AuditAction::CohortDeleted => "cohort.deleted",
            AuditAction::CohortUpdated => "cohort.updated",
            AuditAction::ConfigUpdated => "config.updated",
            AuditAction::ConfigRolledBack => "config.rolled_back",
            AuditAction::ConfigSchemaUpdated => "config_schema.updated",
            AuditAction::ConfigSchemaDeleted => "config_schema.deleted",
            AuditAction::DeviceCohortAssigned => "device.cohort_assigned",
            AuditAction::DeviceCohortUnassigned => "device.cohort_unassigned",
            AuditAction::DeviceCertAdded => "device_cert.added",
            AuditAction::DeviceCertRevoked => "device_cert.revoked",
            AuditAction::DeviceCreated => "device.created",
            AuditAction::DeviceDeleted => "device.deleted",
            AuditAction::DeviceMoved => "device.moved",
            AuditAction::DeviceProvisioned => "device.provisioned",
            AuditAction::DeviceRefused => "device.refused",
            AuditAction::DeviceUpdated => "device.updated",
            AuditAction::FirmwarePolicyUpdated => "firmware_policy.updated",
            AuditAction::ProductArchived => "product.archived",
            AuditAction::ProductCreated => "product.created",
            AuditAction::ProductDeleted => "product.deleted",
            AuditAction::ProductUnarchived => "product.unarchived",
            AuditAction::ProductUpdated => "product.updated",
            AuditAction::ReleaseAdvanced => "release.advanced",
            AuditAction::ReleaseCreated => "release.created",
            AuditAction::ReleaseHalted => "release.halted",
            AuditAction::ReleasePromoted => "release.promoted",
            AuditAction::ReleaseResumed => "release.resumed",
            AuditAction::ReleaseUpdated => "release.updated",
            AuditAction::SigningKeyCreated => "signing_key.created",
            AuditAction::SigningKeyDeleted => "signing_key.deleted",
            AuditAction::VersionCreated => "version.created",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: EventId,
    pub occurred_at: DateTime<Utc>,
    /// The API key that acted; `null` for offline recovery.
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    /// `<resource>.<verb>`, e.g. `product.created`, `api_key.revoked`, `auth.denied`.
    pub action: String,
    pub resource_id: Option<String>,
    pub product_id: Option<String>,
    pub result: EventResult,
    /// Action-specific facts, e.g. the method and path of a denied request.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// `GET /v1/events?product=&resource=&key=&action=&since=&until=&limit=&cursor=`; oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct EventListQuery {
    /// Product name or ID.
    pub product: Option<String>,
    /// Resource ID (product, cohort, device or API key).
    pub resource: Option<String>,
    /// API key ID or name.
    pub key: Option<String>,
    /// Exact action, or a prefix ending in `*` (e.g. `device.*`).
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for EventListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let text = [
            ("product", &self.product),
            ("resource", &self.resource),
            ("key", &self.key),
            ("action", &self.action),
        ];
        for (name, value) in text {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        if let Some(since) = self.since {
            pairs.push(("since", since.to_rfc3339()));
        }
        if let Some(until) = self.until {
            pairs.push(("until", until.to_rfc3339()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn audit_actions_serialise_to_their_resource_and_verb() {
        let json = serde_json::to_value(AuditAction::ProductCreated).expect("serialise");
        assert_eq!(json, "product.created");
        assert_eq!(
            AuditAction::DeviceCohortUnassigned.to_string(),
            "device.cohort_unassigned"
        );
        assert_eq!(AuditAction::AuthDenied.as_str(), "auth.denied");
    }
}
