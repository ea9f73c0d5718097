//! The single JSON error shape every failing response carries.

use serde::{Deserialize, Serialize};

/// Machine-readable error code; the HTTP status says the class, this says the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be parsed (malformed JSON, bad query string, bad cursor).
    BadRequest,
    /// 401: no API key, or one the service does not know.
    Unauthorized,
    /// 403: the key's role or product scope does not allow this.
    Forbidden,
    /// 404: no such resource (or route).
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 408: the request body stopped arriving (no data within the service's body timeout).
    RequestTimeout,
    /// 409: duplicate name, delete refused, archived product, state clash.
    Conflict,
    /// 412: `If-Match` did not match the current revision.
    PreconditionFailed,
    /// 413: the request body is larger than the service accepts.
    PayloadTooLarge,
    /// 414: the request URI is longer than the service accepts.
    UriTooLong,
    /// 431: the request headers are larger than the service accepts.
    HeadersTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: well-formed, but a field is invalid; see `fields`.
    ValidationFailed,
    /// 429: slow down; see `Retry-After`.
    RateLimited,
    /// 500: the service failed; the request may be retried.
    Internal,
    /// 503: the service is shutting down or overloaded.
    Unavailable,
    /// 507: the service's disk is full; writes fail until space is freed, reads still work.
    InsufficientStorage,
    /// A code this client version does not know yet.
    #[serde(other)]
    Unknown,
}

/// One invalid field of a request body or query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// `{"code": "...", "message": "...", "fields": [...], "hint": "..."}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What happened, to what: written for people.
    pub message: String,
    /// The invalid fields; always present, empty when the error is not about a field.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(required = true))]
    pub fields: Vec<FieldError>,
    /// What to do next, when the service knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}
