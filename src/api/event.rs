//! Audit events: one per write and per refused attempt, append-only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::EventId;
use super::page::{PagedQuery, push_page_pairs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventResult {
    Ok,
    /// Refused: unknown/revoked/expired key, role or product scope.
    Denied,
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
