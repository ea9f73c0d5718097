//! The audit log's SQL: recording events inside the caller's transaction, so an event exists
//! exactly when the change it describes was committed. [`AuditEvent`] is the one builder every
//! single-event write uses; bulk operations append theirs set-based (`bulk`, `bulk_import`)
//! with the same actions and outcomes.

use serde_json::Value;

use super::{Conn, now, query};
use crate::api::{AuditAction, EventId, EventResult, OrgId, ProductId};

/// Who acted: the API key's ID and name, when one authenticated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor<'a> {
    pub key_id: Option<&'a str>,
    pub key_name: Option<&'a str>,
}

/// One event to append: who did what, on which resource of which product, with what outcome.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    org_id: &'a OrgId,
    actor: Actor<'a>,
    action: AuditAction,
    resource_id: Option<&'a str>,
    product_id: Option<&'a str>,
    outcome: EventResult,
    details: Value,
}

impl<'a> AuditEvent<'a> {
    /// A successful `action` with its action-specific `details`, on no resource yet.
    pub fn new(org_id: &'a OrgId, actor: Actor<'a>, action: AuditAction, details: Value) -> Self {
        AuditEvent {
            org_id,
            actor,
            action,
            resource_id: None,
            product_id: None,
            outcome: EventResult::Ok,
            details,
        }
    }

    /// The resource (product, cohort, device, key, ...) the event is about.
    pub fn resource(mut self, id: &'a str) -> Self {
        self.resource_id = Some(id);
        self
    }

    /// The product the resource belongs to, which scoped keys filter the log by.
    pub fn product(mut self, id: Option<&'a ProductId>) -> Self {
        self.product_id = id.map(ProductId::as_str);
        self
    }

    /// A refused attempt rather than a change.
    pub fn denied(mut self) -> Self {
        self.outcome = EventResult::Denied;
        self
    }

    /// Appends the event. Call it on the transaction that makes the change.
    pub async fn record(&self, conn: &mut Conn) -> sqlx::Result<EventId> {
        let id = EventId::generate();
        insert(conn, &[(&id, self)]).await?;
        Ok(id)
    }

    /// Appends `events` as [`AuditEvent::record`] would one by one, in multi-row inserts (a
    /// batch of devices provisioned just in time). Call it on the transaction that makes the
    /// changes.
    pub async fn record_all(conn: &mut Conn, events: &[AuditEvent<'_>]) -> sqlx::Result<()> {
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let ids: Vec<EventId> = chunk.iter().map(|_| EventId::generate()).collect();
            let rows: Vec<(&EventId, &AuditEvent<'_>)> = ids.iter().zip(chunk).collect();
            insert(conn, &rows).await?;
        }
        Ok(())
    }
}

/// Rows per multi-row insert: 10 arguments a row.
const ROWS_PER_STATEMENT: usize = 100;

/// The one INSERT of event rows, at one `occurred_at`; each placeholder once and in order, so
/// SQLite runs it with `?`.
async fn insert(conn: &mut Conn, rows: &[(&EventId, &AuditEvent<'_>)]) -> sqlx::Result<()> {
    let occurred_at = now();
    let mut q = query(
        "INSERT INTO events (id, org_id, occurred_at, key_id, key_name, action, resource_id, \
         product_id, result, details) VALUES ",
    );
    for (i, (id, event)) in rows.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.push_bind(id.as_str().to_owned()).push(", ");
        q.push_bind(event.org_id.as_str()).push(", ");
        q.push_bind(occurred_at).push(", ");
        q.push_bind(event.actor.key_id).push(", ");
        q.push_bind(event.actor.key_name).push(", ");
        q.push_bind(event.action.as_str()).push(", ");
        q.push_bind(event.resource_id).push(", ");
        q.push_bind(event.product_id).push(", ");
        q.push_bind(event.outcome.as_str()).push(", ");
        q.push_bind(event.details.to_string()).push(")");
    }
    q.execute(conn).await?;
    Ok(())
}
