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

use axum::routing::{get, post, put};
use axum::{Router, middleware};

use crate::server::state::AppState;
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
