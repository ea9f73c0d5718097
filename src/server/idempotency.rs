//! `Idempotency-Key` on writes: the first request with a key runs and its response (status,
//! body, and the headers that matter) is kept for 24 hours; a retry with the same key and the
//! same method, path and body gets that response again instead of running twice. A claim whose
//! request never answered (its replica was killed) blocks the key for [`ABANDONED_AFTER`], not
//! for the whole retention: then the same request may run again.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::auth::Principal;
use super::error::ApiError;
use super::extract::read_body;
use super::hex::hex;
use super::state::AppState;
use super::store::{self, idempotency::Claim, idempotency::ClaimTimes};
use crate::api::{ErrorCode, IDEMPOTENCY_KEY_HEADER};

const RETENTION: TimeDelta = TimeDelta::hours(24);
/// How long a claim without a response blocks its key. Far longer than any request runs (the
/// bulk routes take seconds; firmware parts skip idempotency).
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(5);
const KEY_MAX: usize = 255;
/// Set on a replayed response so clients (and tests) can tell.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Response headers worth replaying; the rest (date, length) are regenerated.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The idempotency step of [`super::access::layer`], after authentication: needs the caller's
/// organization.
pub(super) async fn run(state: &AppState, request: Request, next: Next) -> Response {
    let is_write = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY_HEADER).cloned() else {
        return next.run(request).await;
    };
    if !is_write {
        return next.run(request).await;
    }
    // Looked up only here, so requests without the header pay nothing for it.
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return ApiError::unauthorized("missing API key").into_response();
    };
    match run_once(state, &principal, &key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

/// The key format the OpenAPI document declares: 1–255 printable ASCII characters, neither
/// starting nor ending with a space. Checked as sent, so the key kept is the key received.
fn well_formed(key: &str) -> bool {
    let bytes = key.as_bytes();
    let visible = |b: &u8| b.is_ascii_graphic();
    !bytes.is_empty()
        && bytes.len() <= KEY_MAX
        && bytes.iter().all(|b| visible(b) || *b == b' ')
        && bytes.first().is_some_and(visible)
        && bytes.last().is_some_and(visible)
}

async fn run_once(
    state: &AppState,
    principal: &Principal,
    key: &HeaderValue,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let key = key
        .to_str()
        .ok()
        .filter(|k| well_formed(k))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Idempotency-Key must be 1–{KEY_MAX} visible ASCII characters (inner spaces \
                 allowed)"
            ))
            .into_response()
        })?
        .to_owned();
    let (parts, body) = request.into_parts();
    let bytes = read_body(body, state.max_body_bytes)
        .await
        .map_err(IntoResponse::into_response)?;
    let request_hash = request_hash(
        &parts.method,
        parts.uri.path_and_query().map(|pq| pq.as_str()),
        &bytes,
    );

    let now = store::now();
    let times = ClaimTimes {
        now,
        expired_before: now - RETENTION,
        abandoned_before: now - ABANDONED_AFTER,
    };
    let claim =
        store::idempotency::claim(&state.pool, &principal.org_id, &key, &request_hash, times)
            .await
            .map_err(|err| ApiError::from(err).into_response())?;
    match claim {
        Claim::Fresh => {}
        Claim::Replay {
            status,
            headers,
            body,
        } => return Ok(replay(status, &headers, body)),
        Claim::Mismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                format!("Idempotency-Key `{key}` was already used for a different request"),
            )
            .with_hint("use a new key for each distinct request")
            .into_response());
        }
        Claim::InProgress => {
            return Err(ApiError::conflict(format!(
                "a request with Idempotency-Key `{key}` is still in progress"
            ))
            .with_hint("retry in a moment to get its result")
            .into_response());
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        release(state, principal, &key, now).await;
        return Err(ApiError::internal().into_response());
    };
    if parts.status.is_server_error() {
        // Let the client retry a failure of ours with the same key.
        release(state, principal, &key, now).await;
    } else {
        let kept: BTreeMap<&str, &str> = KEPT_HEADERS
            .iter()
            .filter_map(|name| Some((name.as_str(), parts.headers.get(name)?.to_str().ok()?)))
            .collect();
        let headers = serde_json::to_string(&kept).unwrap_or_default();
        if let Err(err) = store::idempotency::complete(
            &state.pool,
            &principal.org_id,
            &key,
            now,
            parts.status.as_u16(),
            &headers,
            &bytes,
        )
        .await
        {
            tracing::error!(error = %err, "could not store an idempotent response");
        }
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn request_hash(method: &Method, path_and_query: Option<&str>, body: &Bytes) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(path_and_query.unwrap_or_default().as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hex(&hasher.finalize())
}

fn replay(status: u16, headers: &str, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let stored: BTreeMap<String, String> = serde_json::from_str(headers).unwrap_or_default();
    for (name, value) in stored {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

async fn release(state: &AppState, principal: &Principal, key: &str, claimed_at: DateTime<Utc>) {
    if let Err(err) =
        store::idempotency::release(&state.pool, &principal.org_id, key, claimed_at).await
    {
        tracing::error!(error = %err, "could not release an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_as_sent() {
        assert!(well_formed("k-1"));
        assert!(well_formed("a b"));
        assert!(well_formed(&"k".repeat(KEY_MAX)));
        assert!(!well_formed(""));
        assert!(!well_formed(&"k".repeat(KEY_MAX + 1)));
        assert!(!well_formed(" k"));
        assert!(!well_formed("k "));
        assert!(!well_formed("a\tb"));
        assert!(!well_formed("k\u{e9}"));
    }
}
