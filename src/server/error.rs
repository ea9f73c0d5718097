//! `ApiError`: every failing response of the service, rendered as the one JSON `ErrorBody`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::store;
use crate::api::{ErrorBody, ErrorCode, FieldError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                fields: Vec::new(),
                hint: None,
            },
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed,
            message,
        )
    }

    /// 422 for one invalid field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// 422 listing every invalid field; the message repeats them for people.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let summary = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut err = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            format!("invalid request: {summary}"),
        );
        err.body.fields = fields;
        err
    }

    /// 413: a request body (or an upload part) past its `limit` in bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the service failed to handle the request; it may be retried",
        )
    }

    /// 507: the data directory's file system is full. Nothing of the request was kept.
    pub fn insufficient_storage() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::InsufficientStorage,
            "the service's disk is full; nothing of this request was stored",
        )
        .with_hint(
            "free space on the file system of the service's data directory; writes work again \
             as soon as there is room, without a restart (reads keep working meanwhile)",
        )
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.body.hint = Some(hint.into());
        self
    }

    /// The generic error for a status the framework produced on its own (e.g. 405).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => (ErrorCode::BadRequest, "the request could not be parsed"),
            401 => (ErrorCode::Unauthorized, "missing or unknown API key"),
            403 => (ErrorCode::Forbidden, "this API key may not do that"),
            404 => (ErrorCode::NotFound, "no such route"),
            405 => (
                ErrorCode::MethodNotAllowed,
                "this route does not accept that method",
            ),
            409 => (
                ErrorCode::Conflict,
                "the request conflicts with the current state",
            ),
            412 => (
                ErrorCode::PreconditionFailed,
                "the If-Match precondition failed",
            ),
            413 => (ErrorCode::PayloadTooLarge, "the request body is too large"),
            415 => (
                ErrorCode::UnsupportedMediaType,
                "the request body must be application/json",
            ),
            422 => (ErrorCode::ValidationFailed, "the request is invalid"),
            429 => (ErrorCode::RateLimited, "too many requests; slow down"),
            503 => (ErrorCode::Unavailable, "the service is unavailable"),
            507 => (ErrorCode::InsufficientStorage, "the service's disk is full"),
            _ if status.is_client_error() => (ErrorCode::BadRequest, "the request was rejected"),
            _ => (
                ErrorCode::Internal,
                "the service failed to handle the request",
            ),
        };
        Self::new(status, code, message)
    }
}

/// Database failures are the service's fault: log the detail, tell the client only that it
/// failed, or that the disk is full, which the operator must fix before writes can work.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if store::is_disk_full(&err) {
            tracing::error!(error = %err, "database write failed: the disk is full");
            return ApiError::insufficient_storage();
        }
        tracing::error!(error = %err, "database error");
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
