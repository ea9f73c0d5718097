//! `/v1/products/{product}/firmware-policy`: whether released bundles must be signed.

use axum::Json;
use axum::extract::State;

use crate::api::{AuditAction, FirmwarePolicy};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath};
use crate::server::handlers::{audit, product_or_404};
use crate::server::state::AppState;
use crate::server::store::{self, firmware as fw};

/// Show a product's firmware policy.
#[utoipa::path(get, path = "/v1/products/{product}/firmware-policy", operation_id = "getFirmwarePolicy", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = FirmwarePolicy)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
) -> ApiResult<Json<FirmwarePolicy>> {
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let require_signed_firmware = fw::requires_signed(&mut conn, &product.id).await?;
    Ok(Json(FirmwarePolicy {
        require_signed_firmware,
    }))
}

/// Replace a product's firmware policy.
#[utoipa::path(put, path = "/v1/products/{product}/firmware-policy", operation_id = "putFirmwarePolicy", tag = "firmware",
    request_body = FirmwarePolicy,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = FirmwarePolicy)))]
pub async fn put(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<FirmwarePolicy>,
) -> ApiResult<Json<FirmwarePolicy>> {
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, &product).await?;
    fw::set_requires_signed(&mut tx, &product.id, body.require_signed_firmware).await?;
    let details = serde_json::json!({ "require_signed_firmware": body.require_signed_firmware });
    let (id, action) = (&product.id, AuditAction::FirmwarePolicyUpdated);
    audit(&mut tx, &principal, action, id.as_str(), id, details).await?;
    tx.commit().await?;
    Ok(Json(body))
}
