//! The audit events of the domain's writes, appended on the write's own transaction through the
//! one builder, [`store::events::AuditEvent`].

use serde_json::Value;

use crate::api::{AuditAction, ProductId};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::store::{Conn, events::AuditEvent};

/// Appends the event of a successful `action` by `principal` on `resource_id` in `product_id`.
pub async fn record(
    conn: &mut Conn,
    principal: &Principal,
    action: AuditAction,
    resource_id: &str,
    product_id: &ProductId,
    details: Value,
) -> ApiResult<()> {
    AuditEvent::new(&principal.org_id, principal.actor(), action, details)
        .resource(resource_id)
        .product(Some(product_id))
        .record(conn)
        .await?;
    Ok(())
}

/// Appends the event of a successful `action` on an organization-wide resource (an API key, a
/// signing key): it carries no product.
pub async fn record_org_wide(
    conn: &mut Conn,
    principal: &Principal,
    action: AuditAction,
    resource_id: &str,
    details: Value,
) -> ApiResult<()> {
    AuditEvent::new(&principal.org_id, principal.actor(), action, details)
        .resource(resource_id)
        .record(conn)
        .await?;
    Ok(())
}
