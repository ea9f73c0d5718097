//! The device listener's router: [`super::routes::routes`] behind the device authentication
//! layer, with the same outer layers as the admin API (tracing, panic capture, JSON errors,
//! body limit). Unknown paths are 404 only after authentication.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::gate::{self, DeviceGate};
use crate::server::error::ApiError;
use crate::server::router::{json_errors, panic_response};

/// The device API served on `--device-listen`.
pub fn build(gate: Arc<DeviceGate>) -> Router {
    let state = gate.state.clone();
    let max_body = state.max_body_bytes;
    super::routes::routes()
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(gate, gate::authenticate))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(json_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!(
        "no device API route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .with_hint("device API paths start with /v1/device/")
}
