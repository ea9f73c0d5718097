//! `POST /v1/device/check-in`: the device says what it runs and how it is; the answer is the
//! update to take now. The status is written by the check-in writer moments later.

use axum::Extension;
use axum::Json;
use axum::extract::State;

use super::principal::DevicePrincipal;
use crate::api::device_api::{CheckIn, CheckInAnswer};
use crate::server::domain::device_updates::check_in;
use crate::server::domain::device_updates::contexts::OffersEpoch;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;
use crate::server::transport::ClientIp;

pub async fn check_in(
    State(state): State<AppState>,
    Extension(device): Extension<DevicePrincipal>,
    epoch: Option<Extension<OffersEpoch>>,
    client: Option<Extension<ClientIp>>,
    ApiJson(body): ApiJson<CheckIn>,
) -> ApiResult<Json<CheckInAnswer>> {
    let address = client.map(|Extension(ClientIp(ip))| ip.to_string());
    let epoch = epoch.map(|Extension(epoch)| epoch);
    let answer = check_in::check_in(
        &state.pool,
        &state.device_updates,
        &device,
        epoch,
        address,
        body,
    )
    .await?;
    Ok(Json(answer))
}
