//! `GET /v1/device/binaries/{binary}`: an offered binary's bytes, whole (200) or one byte
//! range (`Range: bytes=…`, 206; 416 when it lies outside the file), with its SHA-256 in
//! `x-fleet-sha256` and as the strong `ETag`.

use std::ops::Range;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::principal::DevicePrincipal;
use crate::api::device_api::SHA256_HEADER;
use crate::server::domain::device_updates::download;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::ApiPath;
use crate::server::state::AppState;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// No range, or one this service does not serve as a range (several ranges, another
    /// unit, malformed): the whole file, as RFC 9110 allows.
    Whole,
    Part(Range<u64>),
    /// A well-formed range that lies outside the file.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (one range).
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => Wanted::Whole,
        (true, false) => match number(last) {
            None => Wanted::Whole,
            Some(0) => Wanted::Unsatisfiable,
            Some(_) if size == 0 => Wanted::Unsatisfiable,
            Some(n) => Wanted::Part(size.saturating_sub(n)..size),
        },
        (false, open) => {
            let Some(start) = number(first) else {
                return Wanted::Whole;
            };
            let end = if open {
                size
            } else {
                match number(last) {
                    Some(end) if end >= start => end.saturating_add(1).min(size),
                    _ => return Wanted::Whole,
                }
            };
            if start >= size {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(start..end)
            }
        }
    }
}

pub async fn download(
    State(state): State<AppState>,
    Extension(device): Extension<DevicePrincipal>,
    ApiPath(binary): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let stored = download::offered(&state.pool, &state.device_updates, &device, &binary).await?;
    let size = stored.binary.size;
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, range) = match wanted(range, size) {
        Wanted::Whole => (StatusCode::OK, None),
        Wanted::Part(range) => (StatusCode::PARTIAL_CONTENT, Some(range)),
        Wanted::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                crate::api::ErrorCode::BadRequest,
                format!("the requested range lies outside binary {binary} of {size} bytes"),
            )
            .with_hint("resume from a byte below its size, or download it whole")
            .into_response();
            if let Ok(value) = HeaderValue::try_from(format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let bytes = download::bytes(&state.pool, &state.firmware, &stored, range.clone()).await?;
    let mut response = Body::from_stream(bytes).into_response();
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Some(r) = &range {
        if let Ok(value) = HeaderValue::try_from(format!("bytes {}-{}/{size}", r.start, r.end - 1))
        {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    let digest = &stored.binary.sha256;
    if let Ok(value) = HeaderValue::try_from(digest.as_str()) {
        headers.insert(SHA256_HEADER, value);
    }
    if let Ok(value) = HeaderValue::try_from(format!("\"{digest}\"")) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=2-5"), 10), Wanted::Part(2..6));
        assert_eq!(wanted(Some("bytes=4-"), 10), Wanted::Part(4..10));
        assert_eq!(wanted(Some("bytes=-3"), 10), Wanted::Part(7..10));
        assert_eq!(wanted(Some("bytes=-30"), 10), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=8-100"), 10), Wanted::Part(8..10));
        assert_eq!(wanted(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=5-2"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-1,4-5"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 10), Wanted::Whole);
    }
}
