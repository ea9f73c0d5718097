//! `POST /v1/bulk/move`: devices change product (a re-provisioning; see `domain::bulk::moves`).

use axum::Json;
use axum::extract::State;

use crate::api::{BulkResult, MoveDevices};
use crate::server::auth::Principal;
use crate::server::domain::bulk;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

/// Move the selected devices to another product, all or none. Refused (409) when the target is
/// archived, when `to_cohort` is not a cohort of it, or when a named device does not exist.
#[utoipa::path(post, path = "/v1/bulk/move", operation_id = "moveDevices", tag = "bulk", request_body = MoveDevices,
    responses((status = 200, body = BulkResult)))]
pub async fn move_devices(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<MoveDevices>,
) -> ApiResult<Json<BulkResult>> {
    let fail_after_rows = state.bulk.fail_after_rows;
    let result = bulk::moves::move_devices(&state.pool, &principal, &body, fail_after_rows).await?;
    Ok(Json(result))
}
