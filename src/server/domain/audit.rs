//! The audit events of the domain's writes, appended on the write's own transaction through the
//! one builder, [`store::events::AuditEvent`].

use serde_json::Value;

use crate::api::{AuditAction, ProductId};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::store::{self, Conn, Pool, events::AuditEvent};

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

/// Appends the `auth.denied` event of a refused request (a bad key, a role or scope refusal, a
/// resource outside the key's scope) in a transaction of its own: the request changes nothing
/// else, and the refusal stands whether or not the event could be written.
pub async fn record_denial(
    pool: &Pool,
    principal: &Principal,
    product: Option<&ProductId>,
    details: Value,
) {
    let result = async {
        let mut tx = store::begin_write(pool).await?;
        AuditEvent::new(
            &principal.org_id,
            principal.actor(),
            AuditAction::AuthDenied,
            details,
        )
        .product(product)
        .denied()
        .record(&mut tx)
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "could not record a denied request");
    }
}
