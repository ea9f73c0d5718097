//! The route table and the layers around it: request tracing, panic capture, body limit,
//! authentication, idempotency, and JSON for every error the framework itself produces.

use std::any::Any;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::access;
use super::error::ApiError;
use super::handlers::{api_keys, events};
use super::handlers::{cohorts, devices, meta, products};
use super::state::AppState;

pub fn build(state: AppState) -> Router {
    build_with(state, Router::new())
}

/// [`build`] with `extra` routes under the same outer layers (tracing, errors, body limit) but
/// none of the authenticated routes' layers: for the benchmark server ([`super::bench`]) only.
pub fn build_with(state: AppState, extra: Router<AppState>) -> Router {
    let max_body = state.max_body_bytes;
    let authenticated = Router::new()
        .route("/v1/products", get(products::list).post(products::create))
        .route(
            "/v1/products/{product}",
            get(products::get)
                .patch(products::update)
                .delete(products::delete),
        )
        .route(
            "/v1/products/{product}/cohorts",
            get(cohorts::list).post(cohorts::create),
        )
        .route(
            "/v1/products/{product}/cohorts/{cohort}",
            get(cohorts::get)
                .patch(cohorts::update)
                .delete(cohorts::delete),
        )
        .route("/v1/cohorts", get(cohorts::list_all))
        .route("/v1/devices", get(devices::list).post(devices::create))
        .route(
            "/v1/devices/{device}",
            get(devices::get)
                .patch(devices::update)
                .delete(devices::delete),
        )
        .route("/v1/whoami", get(api_keys::whoami))
        .route("/v1/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/v1/api-keys/{key}", get(api_keys::get))
        .route("/v1/api-keys/{key}/revoke", post(api_keys::revoke))
        .route("/v1/events", get(events::list))
        // Authentication, then authorization (the route's rule in `authz::RULES`), then
        // idempotency (needs the org), in one layer.
        .route_layer(middleware::from_fn_with_state(state.clone(), access::layer));

    Router::new()
        .route("/v1/health", get(meta::health))
        .route("/v1/openapi.json", get(meta::openapi_json))
        .merge(authenticated)
        // Bulk routes carry their own layers: they read bodies under the larger bulk limit.
        .merge(super::handlers::bulk::routes(&state))
        .merge(super::handlers::firmware::routes(&state))
        .merge(extra)
        .fallback(not_found)
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
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .with_hint("the API lives under /v1; see /v1/openapi.json")
}

/// Replaces any error response that is not already JSON (axum's own 405, for one) with the JSON
/// error shape, keeping its status and headers such as `Allow`.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let body = ApiError::from_status(status).into_response();
    let (body_parts, body) = body.into_parts();
    for (name, value) in &body_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    let mut response = ApiError::internal().into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
