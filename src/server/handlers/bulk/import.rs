//! `POST /v1/bulk/import`: create devices in one product from rows, all or none (see
//! `domain::bulk::import`).

use axum::Json;
use axum::extract::State;

use crate::api::{BulkResult, ImportDevices};
use crate::server::auth::Principal;
use crate::server::domain::bulk;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

/// Import devices into a product, all or none. Rows naming an existing identical device are
/// skipped; an identifier taken by a different device is a conflict (409) unless `update` is
/// set and the device is in the same product.
#[utoipa::path(post, path = "/v1/bulk/import", operation_id = "importDevices", tag = "bulk", request_body = ImportDevices,
    responses((status = 200, body = BulkResult)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ImportDevices>,
) -> ApiResult<Json<BulkResult>> {
    let fail_after_rows = state.bulk.fail_after_rows;
    let result = bulk::import::import(&state.pool, &principal, &body, fail_after_rows).await?;
    Ok(Json(result))
}
