//! `/v1/bulk/…`: device move, cohort assign/unassign, device import and device-level
//! configuration overrides, adapters over `domain::bulk` (one transaction per request,
//! all-or-nothing). This module owns the routes, with their larger body limit.

pub mod cohorts;
pub mod configs;
pub mod import;
pub mod moves;

/// The bulk routes: their bodies may be far larger than other requests', so they read them
/// under the bulk limit.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(moves::move_devices, Access::write()).bulk(),
        route!(cohorts::assign, Access::write()).bulk(),
        route!(cohorts::unassign, Access::write()).bulk(),
        route!(import::import, Access::write()).bulk(),
        route!(configs::configure, Access::write()).bulk(),
    ]
}
