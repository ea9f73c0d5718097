//! Turning HTTP outcomes into CLI errors: which failures are retried, and which exit code each
//! final failure maps to (401/403 → auth, 404 → not found, other 4xx → rejected, 429/5xx and
//! network failures → unavailable), and what each message says about what happened to a write.

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
        /// The body's `code` as sent, so codes newer than [`crate::api::ErrorCode`] still count.
        code: Option<String>,
    },
}

/// The error code a service with a full disk answers writes with (HTTP 507).
const INSUFFICIENT_STORAGE: &str = "insufficient_storage";

/// Only the `code` of an error body, whatever its value.
#[derive(serde::Deserialize)]
struct RawCode {
    code: String,
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
        let bytes = response.bytes().await.ok();
        let parse = |bytes: &[u8]| serde_json::from_slice::<ErrorBody>(bytes).ok();
        let body = bytes.as_deref().and_then(parse);
        let code = bytes
            .as_deref()
            .and_then(|bytes| serde_json::from_slice::<RawCode>(bytes).ok())
            .map(|raw| raw.code);
        Err(Attempt::Status {
            status,
            retry_after,
            body,
            code,
        })
    }

    /// Whether trying again soon could help. A full disk (507) is not retried: it stays full
    /// until someone frees space, so retries only delay the message that says so.
    pub(super) fn is_retryable(&self) -> bool {
        if self.is_disk_full() {
            return false;
        }
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

    /// A connection that was reset or closed after the request went out, without an answer.
    /// Repeating a read is harmless; a write is not repeated (see [`outcome_unknown`]).
    pub(super) fn dropped_after_sending(&self) -> bool {
        matches!(self, Attempt::Transport(err) if !err.is_connect() && !err.is_timeout())
    }

    /// The service answered that its disk is full.
    fn is_disk_full(&self) -> bool {
        match self {
            Attempt::Status { status, code, .. } => says_disk_full(*status, code.as_deref()),
            Attempt::Transport(_) => false,
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
            Attempt::Status {
                status, body, code, ..
            } if says_disk_full(status, code.as_deref()) => disk_full(client, status, body),
            Attempt::Transport(err) if *method != Method::GET && !err.is_connect() => {
                outcome_unknown(client, method, url, &err)
            }
            Attempt::Transport(err) => transport_error(client, &err),
            Attempt::Status { status, body, .. } => status_error(client, method, url, status, body),
        }
    }
}

fn says_disk_full(status: StatusCode, code: Option<&str>) -> bool {
    status == StatusCode::INSUFFICIENT_STORAGE || code == Some(INSUFFICIENT_STORAGE)
}

/// A short reason for a failed request, e.g. "connection refused".
pub(super) fn transport_reason(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    while let Some(cause) = source {
        if is_plain_http_answer(cause) {
            return PLAIN_HTTP.into();
        }
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

/// The reason given when an `https://` URL reached a service that speaks plain HTTP.
const PLAIN_HTTP: &str = "it answered in plain HTTP, not TLS";

/// TLS got bytes that are no TLS record at all: the other end is (most often) a plain HTTP
/// server answering the handshake with a 400 page.
fn is_plain_http_answer(cause: &(dyn std::error::Error + 'static)) -> bool {
    // rustls's error arrives inside io::Errors (two of them), whose `source()` skips past
    // what they wrap: unwrap them by hand.
    let mut cause = cause;
    while let Some(inner) = cause
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        cause = inner;
    }
    let tls = cause.downcast_ref::<rustls::Error>();
    matches!(
        tls,
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType
        ))
    )
}

fn transport_error(client: &ApiClient, err: &reqwest::Error) -> Error {
    let base = client.base_url();
    let reason = transport_reason(err);
    if reason == PLAIN_HTTP {
        let plain = base.replacen("https://", "http://", 1);
        return Error::new(
            ErrorKind::Unavailable,
            format!("could not talk TLS to the fleet service at {base}: {reason}"),
        )
        .hint(format!("use {plain} (--api-url or the profile's api_url)"));
    }
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

/// A write went out and no answer came back: the service may or may not have applied it. Not
/// retried automatically: the service cancels a request whose connection drops and keeps its
/// `Idempotency-Key` claimed, so a retry with that key would only be told "in progress".
fn outcome_unknown(client: &ApiClient, method: &Method, url: &Url, err: &reqwest::Error) -> Error {
    let path = url.path();
    let reason = transport_reason(err);
    let what = if err.is_timeout() {
        "no answer came in time"
    } else {
        "the connection dropped before an answer came"
    };
    let error = Error::new(
        ErrorKind::Unavailable,
        format!(
            "{method} {path} was sent to the fleet service at {}, but {what} ({reason}): \
             the outcome is unknown",
            client.base_url()
        ),
    );
    let bulk = ["move", "assign", "unassign", "import", "config"]
        .into_iter()
        .find(|op| path.ends_with(&format!("/bulk/{op}")));
    // Every run sends a fresh Idempotency-Key, so a re-run is a new request, never a replay:
    // it is safe exactly where the operation itself is repeatable.
    let error = match (bulk, method) {
        (Some(_), _) => error.hint(
            "re-running the same command is safe: devices already as requested are left alone \
             and counted as unchanged",
        ),
        (None, &Method::DELETE) => error.hint(
            "re-running the same command is safe: if the delete was applied, it answers not found",
        ),
        (None, _) => error.hint(
            "a re-run is a new request (each run has its own Idempotency-Key): check whether this \
             one was applied before repeating it",
        ),
    };
    let check = match bulk {
        Some("move") => "fleet event list --action device.moved --since 5m",
        Some("assign") => "fleet event list --action device.cohort_assigned --since 5m",
        Some("unassign") => "fleet event list --action device.cohort_unassigned --since 5m",
        Some("config") => "fleet event list --action config.updated --since 5m",
        Some(_) => "fleet event list --action 'device.*' --since 5m",
        None => "fleet event list --since 5m",
    };
    error.hint(format!("to see what was applied: `{check}`"))
}

/// 507: the service could not store the write because its disk is full. Said plainly, with
/// what to do; retrying could not help.
fn disk_full(client: &ApiClient, status: StatusCode, body: Option<ErrorBody>) -> Error {
    let mut error = Error::new(
        ErrorKind::Unavailable,
        format!(
            "the fleet service at {} could not save the change: its disk is full ({status})",
            client.base_url()
        ),
    );
    if let Some(body) = body {
        error = error.with_source(anyhow::anyhow!(body.message));
        if let Some(hint) = body.hint {
            error = error.hint(hint);
        }
    }
    error
        .hint(
            "free space on the file system of the service's data directory (`fleet server \
             --data-dir`); writes work again once there is room",
        )
        .hint("reads still work; the refused write changed nothing")
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
    let mut fields = Vec::new();
    let (mut message, hint) = match body {
        Some(body) => {
            // Services often fold a single field's message into `message`; don't repeat it.
            let extra: Vec<String> = body
                .fields
                .iter()
                .filter(|f| !body.message.contains(&f.message))
                .map(|f| format!("\n  {}: {}", field_label(&f.field), f.message))
                .collect();
            let message = body.message + &extra.concat();
            fields = body
                .fields
                .into_iter()
                .map(|f| (f.field, f.message))
                .collect();
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
    error.http_status = Some(status.as_u16());
    error.fields = fields;
    if let Some(hint) = hint {
        error = error.hint(hint);
    }
    match status.as_u16() {
        401 if !client.inner.key_source.is_empty() => {
            let source = &client.inner.key_source;
            let next = match source
                .strip_prefix("profile `")
                .and_then(|p| p.strip_suffix('`'))
            {
                Some(profile) => {
                    format!("replace it with `fleet profile add {profile} --api-url URL --force`")
                }
                None => "it is unknown, revoked or expired; pass another".to_owned(),
            };
            error.only_hint(format!(
                "the API key from {source} was not accepted: {next}"
            ))
        }
        412 => error.hint("the resource changed since it was read; show it again and retry"),
        429 | 500..=599 => {
            error.hint("try again later; if it keeps happening, check the service's logs")
        }
        _ => error,
    }
}

/// A field name in backticks (`` `name` ``), but a place in an uploaded file (`line 7`) as is.
fn field_label(field: &str) -> String {
    let is_line = field
        .strip_prefix("line ")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if is_line {
        field.to_owned()
    } else {
        format!("`{field}`")
    }
}

/// The service answered with success, but its body did not arrive whole: what was asked was
/// done, only the answer is missing.
fn answer_cut_off(client: &ApiClient, status: StatusCode, err: &reqwest::Error) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "the fleet service at {} answered {status}, but the connection dropped while its \
             answer was read ({})",
            client.base_url(),
            transport_reason(err)
        ),
    )
    .hint("the request succeeded; show the resource (or `fleet event list --since 5m`) to see the result")
}

/// Reads a successful response as JSON of type `T`.
pub(super) async fn decode<T: DeserializeOwned>(
    client: &ApiClient,
    response: Response,
) -> Result<T> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| answer_cut_off(client, status, &err))?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Error::failure(format!(
            "unexpected response from the fleet service at {}",
            client.base_url()
        ))
        .with_source(err)
        .hint("the service may be a different version than this CLI")
    })
}
