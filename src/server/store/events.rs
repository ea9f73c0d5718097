//! The audit log's SQL: recording events inside the caller's transaction, so an event exists
//! exactly when the change it describes was committed.

use serde_json::Value;

use super::{Conn, now};
use crate::api::{EventId, OrgId};

/// Outcome recorded with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Denied,
    // The table and the API know it; no write records a failure yet (a failed write rolls back,
    // its event with it).
    #[allow(dead_code)]
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// Who acted: the API key's ID and name, when one authenticated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor<'a> {
    pub key_id: Option<&'a str>,
    pub key_name: Option<&'a str>,
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub org_id: &'a OrgId,
    pub actor: Actor<'a>,
    /// `<resource>.<verb>`, e.g. `product.created`.
    pub action: &'a str,
    pub resource_id: Option<&'a str>,
    pub product_id: Option<&'a str>,
    pub outcome: Outcome,
    pub details: Value,
}

/// Appends one event. Call it on the transaction that makes the change.
pub async fn record(conn: &mut Conn, event: &NewEvent<'_>) -> sqlx::Result<EventId> {
    let id = EventId::generate();
    sqlx::query(
        "INSERT INTO events (id, org_id, occurred_at, key_id, key_name, action, resource_id, \
         product_id, result, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.as_str())
    .bind(event.org_id.as_str())
    .bind(now())
    .bind(event.actor.key_id)
    .bind(event.actor.key_name)
    .bind(event.action)
    .bind(event.resource_id)
    .bind(event.product_id)
    .bind(event.outcome.as_str())
    .bind(event.details.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}
