//! Firmware routes: artifacts, versions, binaries (parted upload, completion, download),
//! signing keys and signatures, bundles, releases and the product firmware policy; adapters
//! over `domain::firmware`.

pub mod artifacts;
pub mod binaries;
pub mod bundles;
pub mod policy;
pub mod releases;
pub mod signing;
pub mod upload;

/// The firmware routes. Binary routes name no product in the path: their handlers check the
/// binary's product against the scope. Signing keys are organization-wide.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(artifacts::list, Access::read()),
        route!(artifacts::create, Access::write()),
        route!(artifacts::get, Access::read()),
        route!(artifacts::list_versions, Access::read()),
        route!(artifacts::create_version, Access::write()),
        route!(artifacts::get_version, Access::read()),
        route!(binaries::create, Access::write()),
        route!(binaries::list, Access::read()),
        route!(binaries::get, Access::read()),
        route!(binaries::abandon, Access::write()),
        route!(binaries::parts, Access::read()),
        // Its body is streamed; it needs no idempotency step, being idempotent by itself
        // (same number, same bytes, same result).
        route!(upload::put_part, Access::write()).streamed(),
        route!(binaries::complete, Access::write()),
        route!(binaries::download, Access::read()),
        route!(signing::sign, Access::write()),
        route!(signing::list, Access::read()),
        route!(signing::create, Access::write().org_wide()),
        route!(signing::get, Access::read()),
        route!(signing::delete, Access::admin().org_wide()),
        route!(policy::get, Access::read()),
        route!(policy::put, Access::admin()),
        route!(bundles::list, Access::read()),
        route!(bundles::create, Access::write()),
        route!(bundles::get, Access::read()),
        route!(releases::list, Access::read()),
        route!(releases::create, Access::write()),
        route!(releases::get, Access::read()),
        route!(releases::update, Access::write()),
        route!(releases::halt, Access::write()),
        route!(releases::resume, Access::write()),
        route!(releases::promote, Access::write()),
    ]
}
