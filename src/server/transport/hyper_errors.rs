//! JSON for the requests hyper refuses before the service sees them: a malformed request line
//! or header (400), a URI past hyper's own limit (414), a head past its buffer or header count
//! (431). Hyper answers those with an empty body and closes the connection; the socket wrapper
//! ([`super::io`]) writes the response built here instead.

use axum::http::StatusCode;

use super::head_limits::{MAX_HEADER_BYTES, MAX_URI_BYTES};
use crate::api::{ErrorBody, ErrorCode};

/// The JSON response to write instead of `written`, when `written` is the start of one of
/// hyper's automatic error responses.
pub fn json_replacement(written: &[u8]) -> Option<Vec<u8>> {
    let status = automatic_status(written)?;
    let body = error_body(status);
    let json = serde_json::to_vec(&body).ok()?;
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut response = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        status.as_u16(),
        json.len()
    )
    .into_bytes();
    response.extend_from_slice(&json);
    Some(response)
}

/// The status of a response head hyper wrote by itself: it only ever writes a client error
/// there.
fn automatic_status(written: &[u8]) -> Option<StatusCode> {
    let rest = written
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| written.strip_prefix(b"HTTP/1.0 "))?;
    let digits = rest.get(..3)?;
    let code = std::str::from_utf8(digits).ok()?.parse::<u16>().ok()?;
    StatusCode::from_u16(code)
        .ok()
        .filter(StatusCode::is_client_error)
}

fn error_body(status: StatusCode) -> ErrorBody {
    let (code, message, hint) = match status {
        StatusCode::URI_TOO_LONG => (
            ErrorCode::UriTooLong,
            format!("the request URI is longer than the limit of {MAX_URI_BYTES} bytes"),
            "send long selections in a request body (the bulk routes take them)",
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ErrorCode::HeadersTooLarge,
            format!(
                "the request headers are larger than the limit of {MAX_HEADER_BYTES} bytes \
                 (or more than 100 headers)"
            ),
            "send fewer or shorter headers",
        ),
        _ => (
            ErrorCode::BadRequest,
            "the request line or a header is malformed; this service speaks HTTP/1.1".to_owned(),
            "check the client or proxy that sent this request",
        ),
    };
    ErrorBody {
        code,
        message,
        fields: Vec::new(),
        hint: Some(hint.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_error_heads_are_replaced() {
        let replaced = json_replacement(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
        )
        .expect("a 431 head is replaced");
        let text = String::from_utf8(replaced).expect("utf-8");
        assert!(
            text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{text}"
        );
        assert!(text.contains("\"code\":\"headers_too_large\""), "{text}");
        assert_eq!(json_replacement(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(json_replacement(b"{\"HTTP/1.1 400"), None);
    }
}
