//! HTTP handlers, one file per resource: thin adapters that extract the request, call the
//! domain layer (`server::domain`) and shape the response (status, `ETag`, `Location`).

pub mod api_keys;
pub mod bulk;
pub mod cas;
pub mod cohorts;
pub mod configs;
pub mod device_certs;
pub mod device_status;
pub mod devices;
pub mod events;
pub mod firmware;
pub mod meta;
pub mod products;
pub mod stats;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A single resource with `ETag: "<revision>"` and, for creates, its `Location`.
fn resource<T: Serialize>(
    status: StatusCode,
    value: &T,
    revision: i64,
    location: Option<String>,
) -> Response {
    let mut response = (status, Json(value)).into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::try_from(format!("\"{revision}\"")) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::try_from(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}
