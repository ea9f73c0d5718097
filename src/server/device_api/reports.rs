//! `POST /v1/device/reports`: where the device is in taking a release.

use axum::Extension;
use axum::Json;
use axum::extract::State;

use super::principal::DevicePrincipal;
use crate::api::device_api::{DeviceUpdate, UpdateReport};
use crate::server::domain::device_updates::reports;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

pub async fn report(
    State(state): State<AppState>,
    Extension(device): Extension<DevicePrincipal>,
    ApiJson(body): ApiJson<UpdateReport>,
) -> ApiResult<Json<DeviceUpdate>> {
    let update = reports::report(&state.pool, &state.device_updates, &device, body).await?;
    Ok(Json(update))
}
