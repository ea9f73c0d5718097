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
pub mod running;
pub mod signing;
pub mod upload;

use axum::routing::{get, post, put};
use axum::{Router, middleware};

use super::product_or_404;
use crate::api::{BinaryId, Product};
use crate::server::auth::Principal;
use crate::server::blobs::{BlobError, Blobs, ByteStream};
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use crate::server::store::firmware::binaries::Stored;
use crate::server::store::{self, Conn};
use crate::server::{access, auth, authz};

/// Most parts one binary may have (so a plan stays a reasonable JSON document).
pub const MAX_PARTS: u64 = 10_000;

/// The firmware part of [`AppState`]: where blobs go, how large upload parts are, and the
/// whole-file digests of uploads in progress.
#[derive(Debug)]
pub struct Firmware {
    pub blobs: Blobs,
    pub part_size: u64,
    pub running: std::sync::Arc<running::RunningDigests>,
}

impl Firmware {
    pub fn new(blobs: Blobs, part_size: u64) -> Self {
        Firmware {
            blobs,
            part_size: part_size.max(1),
            running: std::sync::Arc::default(),
        }
    }

    /// Blobs in memory: the placeholder until the server opens its data dir's store.
    pub fn in_memory() -> Self {
        Self::new(Blobs::in_memory(), crate::server::DEFAULT_PART_SIZE_BYTES)
    }
}

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

/// Object key of part `number` of an upload, holding `sha256`: a part sent again with other
/// bytes gets another key, so the bytes behind a recorded part never change under a reader.
pub fn part_key(prefix: &str, number: u64, sha256: &str) -> String {
    format!("{prefix}/part-{number:06}-{sha256}")
}

/// Where data dirs written before part keys held digests keep a part.
fn legacy_part_key(prefix: &str, number: u64) -> String {
    format!("{prefix}/part-{number:06}")
}

/// The object of a recorded part: under its content-addressed key, or its legacy key.
pub async fn read_part(
    blobs: &Blobs,
    prefix: &str,
    number: u64,
    sha256: &str,
) -> Result<ByteStream, BlobError> {
    match blobs.read(&part_key(prefix, number, sha256)).await {
        Err(BlobError::NotFound { .. }) => blobs.read(&legacy_part_key(prefix, number)).await,
        other => other,
    }
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
