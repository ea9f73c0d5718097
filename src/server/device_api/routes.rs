//! The device API's routes. Every route here runs behind the device authentication layer
//! (`gate`): its handler reads the device from the request's
//! `Extension<DevicePrincipal>` and never sees a request that was not admitted.
//!
//! To add a route, add a `.route(PATH, method(handler))` line to [`routes`]; paths live in
//! `api::device_api`, handlers beside the admin API's (`handlers/`, through `domain/`).

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::device_api::PING_PATH;
use crate::server::state::AppState;

/// Every route of the device API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PING_PATH, get(ping))
        .merge(super::update_routes::routes())
}

/// 204 for any admitted device: the cheapest authenticated request, the benchmarks' baseline.
async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}
