//! A product's firmware policy: whether released bundles must be signed.

use crate::api::{AuditAction, FirmwarePolicy, ProductFirmwarePolicy};
use crate::server::auth::Principal;
use crate::server::domain::audit;
use crate::server::domain::lookup::product_or_404;
use crate::server::error::ApiResult;
use crate::server::store::{self, Pool, firmware as fw};

/// The policy of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
) -> ApiResult<ProductFirmwarePolicy> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let require_signed_firmware = fw::requires_signed(&mut conn, &product.id).await?;
    Ok(ProductFirmwarePolicy {
        product_id: product.id,
        product: product.name,
        require_signed_firmware,
    })
}

/// Replaces the policy of `product`.
pub async fn put(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: FirmwarePolicy,
) -> ApiResult<ProductFirmwarePolicy> {
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, product).await?;
    fw::set_requires_signed(&mut tx, &product.id, body.require_signed_firmware).await?;
    let details = serde_json::json!({ "require_signed_firmware": body.require_signed_firmware });
    let (id, action) = (&product.id, AuditAction::FirmwarePolicyUpdated);
    audit::record(&mut tx, principal, action, id.as_str(), id, details).await?;
    tx.commit().await?;
    Ok(ProductFirmwarePolicy {
        product_id: product.id,
        product: product.name,
        require_signed_firmware: body.require_signed_firmware,
    })
}
