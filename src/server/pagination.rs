//! Keyset pagination: `limit` checks and the opaque cursor (base64url of the last ID returned).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::ApiError;
use crate::api::Page;
use crate::api::page::{DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};

pub struct PageRequest {
    pub limit: u32,
    /// The last ID of the previous page.
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (422 outside 1–1000) and decodes `cursor` (400 unless it is a cursor this
    /// list handed out: base64url of an ID that `parse_id` accepts).
    pub fn new<I>(
        limit: Option<u32>,
        cursor: Option<&str>,
        parse_id: fn(&str) -> Option<I>,
    ) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(MIN_LIMIT..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("limit must be between {MIN_LIMIT} and {MAX_LIMIT}, got {limit}"),
            ));
        }
        let after = cursor
            .map(|cursor| decode_cursor(cursor, parse_id))
            .transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> u32 {
        self.limit + 1
    }

    /// Trims the extra row and sets `next_cursor` from the page's last item.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> Page<T> {
        let page_len = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > page_len {
            rows.truncate(page_len);
            rows.last().map(|last| encode_cursor(id_of(last)))
        } else {
            None
        };
        Page {
            data: rows,
            next_cursor,
        }
    }
}

/// A list response whose `data` array was rendered elsewhere (by the store, as JSON text).
pub fn raw_page_response(items_json: String, next_cursor: Option<String>) -> Response {
    // Cursors are base64url, so they need no JSON escaping.
    let cursor = match next_cursor {
        Some(cursor) => format!("\"{cursor}\""),
        None => "null".to_owned(),
    };
    let body = format!("{{\"data\":{items_json},\"next_cursor\":{cursor}}}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor<I>(cursor: &str, parse_id: fn(&str) -> Option<I>) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| parse_id(id).is_some())
        .ok_or_else(|| {
            ApiError::bad_request("the cursor is not valid for this list")
                .with_hint("pass back the `next_cursor` of the previous page unchanged")
        })
}
