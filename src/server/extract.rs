//! Request extractors whose rejections are `ApiError`s, so a bad body, query, path or header
//! gets the JSON error shape and the right status instead of axum's plain-text default.

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt as _;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::error::ApiError;
use super::state::AppState;
use crate::api::ErrorCode;

/// A JSON object body: 415 without a JSON content type, 400 when it does not parse, 422 when it
/// parses but has the wrong shape (serde's message says which field), 413 over the size limit.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !has_json_content_type(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "the request body must be JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = read_body(request.into_body(), state.max_body_bytes).await?;
        // serde would also read a struct from an array (`["x"]`); only objects are accepted.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<IgnoredAny>(&bytes).is_ok()
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                "the request body must be a JSON object",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection, state.max_body_bytes)),
        }
    }
}

/// `application/json`, or any `application/*+json`, parameters (charset) aside.
fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn json_rejection(rejection: &JsonRejection, limit: usize) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            rejection.body_text(),
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large(limit)
        }
        _ => ApiError::bad_request(rejection.body_text()),
    }
}

/// Past the limit, keep reading (and discarding) up to this much more, so a client still sending
/// gets to read the 413 instead of a connection reset.
const DRAIN_MAX: usize = 16 * 1024 * 1024;

/// Reads a request body of at most `limit` bytes; 413 (JSON) beyond it.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            ApiError::bad_request(format!("could not read the request body: {err}"))
        })?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit.saturating_add(DRAIN_MAX) {
            break;
        }
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(ApiError::payload_too_large(limit));
    }
    Ok(Bytes::from(buf))
}

/// A query string, with repeated keys (`tag=a&tag=b`) collected into lists; 400 when it does not
/// parse into the endpoint's query type.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        // The form decoder reads `limit=` as if `limit` were absent; a parameter given without a
        // value is a malformed request instead (the document declares every one non-empty).
        if let Some(name) = first_empty_parameter(query) {
            return Err(ApiError::bad_request(format!(
                "query parameter `{name}` has no value; give it one or leave it out"
            )));
        }
        serde_html_form::from_str(query)
            .map(ApiQuery)
            .map_err(|err| ApiError::bad_request(format!("invalid query string: {err}")))
    }
}

/// The name of the first `name=` (or bare `name`) pair of a query string, if any.
fn first_empty_parameter(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(_, value)| value.is_empty())
        .map(|(name, _)| name.into_owned())
}

/// Path parameters; 400 when they do not decode.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// `If-Match: "<revision>"`; `None` when absent or `*`.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || {
            ApiError::bad_request("If-Match must be a revision in quotes, e.g. `If-Match: \"3\"`")
        };
        let text = value.to_str().map_err(|_| bad())?.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let text = text.strip_prefix("W/").unwrap_or(text);
        text.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse().ok())
            .map(|revision| IfMatch(Some(revision)))
            .ok_or_else(bad)
    }
}
