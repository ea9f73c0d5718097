//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the wire
//! types in `api/`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers::bulk;
use super::handlers::firmware;
use super::handlers::{api_keys, events};
use super::handlers::{cohorts, devices, meta, products};
use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "fleet", description = "Products, cohorts and devices of embedded-device fleets."),
    paths(
        meta::health,
        meta::openapi_json,
        products::list,
        products::create,
        products::get,
        products::update,
        products::delete,
        cohorts::list_all,
        cohorts::list,
        cohorts::create,
        cohorts::get,
        cohorts::update,
        cohorts::delete,
        devices::list,
        devices::create,
        devices::get,
        devices::update,
        devices::delete,
        api_keys::whoami,
        api_keys::list,
        api_keys::create,
        api_keys::get,
        api_keys::revoke,
        events::list,
        bulk::moves::move_devices,
        bulk::cohorts::assign,
        bulk::cohorts::unassign,
        bulk::import::import,
        firmware::artifacts::list,
        firmware::artifacts::create,
        firmware::artifacts::get,
        firmware::artifacts::list_versions,
        firmware::artifacts::create_version,
        firmware::artifacts::get_version,
        firmware::binaries::create,
        firmware::binaries::list,
        firmware::binaries::get,
        firmware::binaries::parts,
        firmware::upload::put_part,
        firmware::binaries::complete,
        firmware::binaries::download,
        firmware::signing::sign,
        firmware::signing::list,
        firmware::signing::create,
        firmware::signing::get,
        firmware::signing::delete,
        firmware::policy::get,
        firmware::policy::put,
        firmware::bundles::list,
        firmware::bundles::create,
        firmware::bundles::get,
        firmware::releases::list,
        firmware::releases::create,
        firmware::releases::get,
        firmware::releases::update,
    ),
    components(schemas(api::ErrorBody, api::ErrorCode, api::FieldError, api::ProductState)),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
