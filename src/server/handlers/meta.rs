//! Unauthenticated endpoints: liveness and the OpenAPI document.

use axum::Json;
use serde::Serialize;

use crate::server::openapi;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    pub status: &'static str,
}

/// Liveness check; needs no API key.
#[utoipa::path(get, path = "/v1/health", operation_id = "getHealth", tag = "meta", security(()),
    responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// This API's OpenAPI 3.1 document; needs no API key.
#[utoipa::path(get, path = "/v1/openapi.json", operation_id = "getOpenApiDocument", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(health, Access::public()),
        route!(openapi_json, Access::public()),
    ]
}
