//! `POST /v1/bulk/config`: set and remove keys in the configuration override of every selected
//! device (see `domain::bulk::configs`).

use axum::Json;
use axum::extract::State;

use crate::api::{BulkResult, ConfigureDevices};
use crate::server::auth::Principal;
use crate::server::domain::bulk;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

/// Set and remove keys in the device-level configuration override of every selected device,
/// all or none. Every selected device must be in the product, and every effective
/// configuration the change makes must satisfy the product's schema (422 lists the failing
/// paths).
#[utoipa::path(post, path = "/v1/bulk/config", operation_id = "configureDevices", tag = "bulk", request_body = ConfigureDevices,
    responses((status = 200, body = BulkResult)))]
pub async fn configure(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ConfigureDevices>,
) -> ApiResult<Json<BulkResult>> {
    let fail_after_rows = state.bulk.fail_after_rows;
    let caches = &state.device_updates.configs;
    let result =
        bulk::configs::configure(&state.pool, caches, &principal, &body, fail_after_rows).await?;
    Ok(Json(result))
}
