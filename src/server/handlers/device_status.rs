//! `GET /v1/devices/{device}/status`: the operator's view of a device in the field (last
//! check-in, what it runs, update state and history), apart from the device resource so list
//! pages stay one query.

use axum::Json;
use axum::extract::State;

use crate::api::DeviceStatus;
use crate::server::auth::Principal;
use crate::server::domain::device_updates::status;
use crate::server::error::ApiResult;
use crate::server::extract::ApiPath;
use crate::server::state::AppState;

/// Show a device's last check-in, what it runs, its update state and its newest reports.
#[utoipa::path(get, path = "/v1/devices/{device}/status", operation_id = "getDeviceStatus", tag = "devices",
    params(("device" = String, Path, description = "Device identifier or ID")),
    responses((status = 200, body = DeviceStatus)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Json<DeviceStatus>> {
    let view = status::status(&state.pool, &state.device_updates, &principal, &reference).await?;
    Ok(Json(view))
}

pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![route!(get, Access::read())]
}
