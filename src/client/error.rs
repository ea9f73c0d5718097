//! Turning HTTP outcomes into CLI errors: which failures are retried, and which exit code each
//! final failure maps to (401/403 → auth, 404 → not found, other 4xx → rejected, 429/5xx and
//! network failures → unavailable).

use std::time::Duration;

use reqwest::{Method, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::ApiClient;
use crate::api::ErrorBody;
use crate::error::{Error, ErrorKind, Result};

/// Why one attempt failed.
pub(super) enum Attempt {
    Transport(reqwest::Error),
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Option<ErrorBody>,
    },
}

impl Attempt {
    /// Passes successful responses through and reads the error body of failed ones.
    pub(super) async fn check(result: reqwest::Result<Response>) -> Result<Response, Attempt> {
        let response = result.map_err(Attempt::Transport)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ErrorBody>(&bytes).ok());
        Err(Attempt::Status {
            status,
            retry_after,
            body,
        })
    }

    pub(super) fn is_retryable(&self) -> bool {
        match self {
            Attempt::Transport(err) => err.is_connect(),
            Attempt::Status { status, .. } => matches!(
                *status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ),
        }
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            Attempt::Status { retry_after, .. } => *retry_after,
            Attempt::Transport(_) => None,
        }
    }

    pub(super) fn into_error(self, client: &ApiClient, method: &Method, url: &Url) -> Error {
        match self {
            Attempt::Transport(err) => transport_error(client, &err),
            Attempt::Status { status, body, .. } => status_error(client, method, url, status, body),
        }
    }
}

/// A short reason for a failed request, e.g. "connection refused".
pub(super) fn transport_reason(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".into(),
                std::io::ErrorKind::TimedOut => return "timed out".into(),
                _ => {}
            }
        }
        innermost = cause.to_string();
        source = cause.source();
    }
    if err.is_timeout() {
        return "timed out".into();
    }
    innermost
}

fn transport_error(client: &ApiClient, err: &reqwest::Error) -> Error {
    let base = client.base_url();
    let reason = transport_reason(err);
    if err.is_timeout() && !err.is_connect() {
        return Error::new(
            ErrorKind::Unavailable,
            format!("the fleet service at {base} did not answer in time ({reason})"),
        )
        .hint("try again; if it keeps happening, check the service's logs");
    }
    Error::new(
        ErrorKind::Unavailable,
        format!("could not reach the fleet service at {base} ({reason})"),
    )
    .hint("start a local service with `fleet server`, or check --api-url / the profile's api_url")
}

fn status_error(
    client: &ApiClient,
    method: &Method,
    url: &Url,
    status: StatusCode,
    body: Option<ErrorBody>,
) -> Error {
    let kind = match status.as_u16() {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        400 | 409 | 412 | 413 | 415 | 422 => ErrorKind::Rejected,
        429 | 500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Failure,
    };
    let (mut message, hint) = match body {
        Some(body) => {
            // Services often fold a single field's message into `message`; don't repeat it.
            let extra: Vec<String> = body
                .fields
                .iter()
                .filter(|f| !body.message.contains(&f.message))
                .map(|f| format!("\n  `{}`: {}", f.field, f.message))
                .collect();
            let message = body.message + &extra.concat();
            (message, body.hint)
        }
        None => (
            format!(
                "the fleet service answered {status} to {method} {}",
                url.path()
            ),
            None,
        ),
    };
    if kind == ErrorKind::Unavailable {
        message = format!(
            "the fleet service at {} failed: {message} ({status})",
            client.base_url()
        );
    }
    let mut error = Error::new(kind, message);
    if let Some(hint) = hint {
        error = error.hint(hint);
    }
    match status.as_u16() {
        401 if !client.inner.key_source.is_empty() => error.hint(format!(
            "the API key from {} was not accepted; store another with `fleet profile add NAME --api-url URL`",
            client.inner.key_source
        )),
        412 => error.hint("the resource changed since it was read; show it again and retry"),
        429 | 500..=599 => error.hint("try again later; if it keeps happening, check the service's logs"),
        _ => error,
    }
}

/// Reads a successful response as JSON of type `T`.
pub(super) async fn decode<T: DeserializeOwned>(
    client: &ApiClient,
    response: Response,
) -> Result<T> {
    let bytes = response
        .bytes()
        .await
        .map_err(|err| transport_error(client, &err))?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Error::failure(format!(
            "unexpected response from the fleet service at {}",
            client.base_url()
        ))
        .with_source(err)
        .hint("the service may be a different version than this CLI")
    })
}
