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

use axum::routing::{get, post, put};
use axum::{Router, middleware};

use super::product_or_404;
use crate::api::{BinaryId, Product};
use crate::server::auth::Principal;
pub(crate) use crate::server::domain::firmware::{MAX_PARTS, legacy_part_key, part_key, read_part};
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use crate::server::store::firmware::binaries::Stored;
use crate::server::store::{self, Conn};
use crate::server::{access, auth, authz};

pub fn routes(state: &AppState) -> Router<AppState> {
    let p = "/v1/products/{product}";
    let json = Router::new()
        .route(
            &format!("{p}/artifacts"),
            get(artifacts::list).post(artifacts::create),
        )
        .route(&format!("{p}/artifacts/{{artifact}}"), get(artifacts::get))
        .route(
            &format!("{p}/artifacts/{{artifact}}/versions"),
            get(artifacts::list_versions).post(artifacts::create_version),
        )
        .route(
            &format!("{p}/artifacts/{{artifact}}/versions/{{version}}"),
            get(artifacts::get_version),
        )
        .route(
            &format!("{p}/artifacts/{{artifact}}/versions/{{version}}/binaries"),
            post(binaries::create),
        )
        .route(
            &format!("{p}/firmware-policy"),
            get(policy::get).put(policy::put),
        )
        .route(
            &format!("{p}/bundles"),
            get(bundles::list).post(bundles::create),
        )
        .route(&format!("{p}/bundles/{{bundle}}"), get(bundles::get))
        .route(
            &format!("{p}/releases"),
            get(releases::list).post(releases::create),
        )
        .route(
            &format!("{p}/releases/{{release}}"),
            get(releases::get).patch(releases::update),
        )
        .route("/v1/binaries", get(binaries::list))
        .route("/v1/binaries/{binary}", get(binaries::get))
        .route("/v1/binaries/{binary}/parts", get(binaries::parts))
        .route("/v1/binaries/{binary}/complete", post(binaries::complete))
        .route("/v1/binaries/{binary}/download", get(binaries::download))
        .route("/v1/binaries/{binary}/signatures", post(signing::sign))
        .route("/v1/signing-keys", get(signing::list).post(signing::create))
        .route(
            "/v1/signing-keys/{key}",
            get(signing::get).delete(signing::delete),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), access::layer));
    // Part uploads skip the idempotency layer, which would buffer the body under the JSON
    // limit: a part PUT is idempotent by itself (same number, same bytes, same result).
    let parts = Router::new()
        .route(
            "/v1/binaries/{binary}/parts/{number}",
            put(upload::put_part),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            authz::authorize,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    json.merge(parts)
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
