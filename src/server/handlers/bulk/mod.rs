//! `/v1/bulk/…`: device move, cohort assign/unassign and device import, adapters over
//! `domain::bulk` (one transaction per request, all-or-nothing). This module owns the routes,
//! with their larger body limit.

pub mod cohorts;
pub mod import;
pub mod moves;

use axum::Router;
use axum::middleware;
use axum::routing::post;

use crate::server::access;
use crate::server::state::AppState;

use cohorts::{assign, unassign};
use import::import;
use moves::move_devices;

/// The bulk routes, with authentication and idempotency of their own: their bodies may be far
/// larger than other requests', so they read them under the bulk limit.
pub fn routes(state: &AppState) -> Router<AppState> {
    let bulk_state = state.with_max_body_bytes(state.bulk.max_body_bytes);
    Router::new()
        .route("/v1/bulk/move", post(move_devices))
        .route("/v1/bulk/assign", post(assign))
        .route("/v1/bulk/unassign", post(unassign))
        .route("/v1/bulk/import", post(import))
        // The same layer as the other authenticated routes, under the bulk body limit.
        .route_layer(middleware::from_fn_with_state(
            bulk_state.clone(),
            access::layer,
        ))
        .with_state(bulk_state)
}
