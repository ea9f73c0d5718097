//! Firmware routes: artifacts, versions, binaries (parted upload, completion, download),
//! signing keys and signatures, bundles, releases and the product firmware policy.
//!
//! Binaries are addressed by ID (`/v1/binaries/{binary}`), so the scope check that authz does
//! for `{product}` paths happens here: a binary outside a scoped key's products is a 404.

pub mod artifacts;
pub mod binaries;
pub mod bundles;
pub mod policy;
pub mod releases;
pub mod signing;
pub mod upload;

use super::product_or_404;
use crate::api::{BinaryId, Product};
use crate::server::auth::Principal;
use crate::server::authz;
pub(crate) use crate::server::domain::firmware::{MAX_PARTS, legacy_part_key, part_key, read_part};
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use crate::server::store::firmware::binaries::Stored;
use crate::server::store::{self, Conn};

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
    ]
}

/// 404 for a binary; also what a scoped key gets for one outside its products.
fn unknown_binary(reference: &str) -> ApiError {
    ApiError::not_found(format!("no binary `{reference}`"))
        .with_hint("list binaries with `fleet firmware list`")
}

/// The binary `reference` as the caller may see it: 404 when missing or out of scope. Uses a
/// connection of its own (a denial is recorded in its own transaction): call it before
/// starting a write transaction, and re-read inside that.
async fn binary_or_404(
    state: &AppState,
    principal: &Principal,
    reference: &str,
) -> ApiResult<Stored> {
    let id = BinaryId::parse(reference).ok_or_else(|| unknown_binary(reference))?;
    let mut conn = state.pool.acquire().await?;
    let stored = store::firmware::binaries::get(&mut conn, &principal.org_id, &id)
        .await?
        .ok_or_else(|| unknown_binary(reference))?;
    drop(conn);
    if !principal.sees(&stored.binary.product_id) {
        let details = serde_json::json!({ "status": 404, "reason": "scope", "binary": reference });
        let product = Some(&stored.binary.product_id);
        authz::record_denial(
            state,
            &principal.org_id,
            principal.actor(),
            product,
            details,
        )
        .await;
        return Err(unknown_binary(reference));
    }
    Ok(stored)
}

/// 409 unless the product takes new firmware.
fn check_active(product: &Product) -> ApiResult<()> {
    if product.archived {
        return Err(super::archived(product, "firmware or releases"));
    }
    Ok(())
}

/// The product of a stored binary, for the archived check.
async fn product_of(conn: &mut Conn, principal: &Principal, stored: &Stored) -> ApiResult<Product> {
    product_or_404(conn, &principal.org_id, stored.binary.product_id.as_str()).await
}
