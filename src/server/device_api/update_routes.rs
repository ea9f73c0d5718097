//! The device routes of updates: check-in, reports and downloads of offered binaries. Each
//! handler reads the admitted device's [`super::principal::DevicePrincipal`].

use axum::Router;
use axum::routing::{get, post};

use crate::api::device_api::{BINARIES_PATH, CHECK_IN_PATH, REPORTS_PATH};
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(CHECK_IN_PATH, post(super::check_in::check_in))
        .route(REPORTS_PATH, post(super::reports::report))
        .route(
            &format!("{BINARIES_PATH}/{{binary}}"),
            get(super::download::download),
        )
}
