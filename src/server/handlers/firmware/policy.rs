//! `/v1/products/{product}/firmware-policy`, adapters over `domain::firmware::policy`.

use axum::Json;
use axum::extract::State;

use crate::api::{FirmwarePolicy, ProductFirmwarePolicy};
use crate::server::auth::Principal;
use crate::server::domain::firmware::policy;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath};
use crate::server::state::AppState;

/// Show a product's firmware policy.
#[utoipa::path(get, path = "/v1/products/{product}/firmware-policy", operation_id = "getFirmwarePolicy", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = ProductFirmwarePolicy)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
) -> ApiResult<Json<ProductFirmwarePolicy>> {
    Ok(Json(policy::get(&state.pool, &principal, &product).await?))
}

/// Replace a product's firmware policy.
#[utoipa::path(put, path = "/v1/products/{product}/firmware-policy", operation_id = "putFirmwarePolicy", tag = "firmware",
    request_body = FirmwarePolicy,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = ProductFirmwarePolicy)))]
pub async fn put(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<FirmwarePolicy>,
) -> ApiResult<Json<ProductFirmwarePolicy>> {
    Ok(Json(
        policy::put(&state.pool, &principal, &product, body).await?,
    ))
}
