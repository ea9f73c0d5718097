//! Limits on a request's head, checked before the router: a URI longer than [`MAX_URI_BYTES`]
//! gets 414 and headers larger than [`MAX_HEADER_BYTES`] get 431, both in the service's JSON
//! error shape. They sit well below hyper's own limits (a 64 KiB URI, a ~400 KiB head), which
//! would answer with an empty body (see [`super::hyper_errors`] for those).

use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::ErrorCode;
use crate::server::error::ApiError;

/// Longest request URI (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest total size of the request headers (names, values and separators) accepted.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The refusal of a request whose head is past a limit, or `None`.
pub fn check<B>(request: &Request<B>) -> Option<Response> {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return Some(closing(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                ErrorCode::UriTooLong,
                format!(
                    "the request URI is {uri_bytes} bytes long, more than the limit of \
                     {MAX_URI_BYTES} bytes"
                ),
            )
            .with_hint("send long selections in a request body (the bulk routes take them)"),
        ));
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(closing(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                ErrorCode::HeadersTooLarge,
                format!(
                    "the request headers are {header_bytes} bytes, more than the limit of \
                     {MAX_HEADER_BYTES} bytes"
                ),
            )
            .with_hint("send fewer or shorter headers"),
        ));
    }
    None
}

/// The error, with the connection closed after it: the client's next request would most
/// likely be refused the same way.
fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
