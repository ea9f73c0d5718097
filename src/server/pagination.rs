//! Keyset pagination: `limit` checks and the cursor, which is the ID of the last item returned.
//!
//! The cursor is that plain ID, not an encoding of it, so the OpenAPI document can state exactly
//! which cursors a list accepts (any well-formed ID of the list's item type) and every such
//! cursor is served: the next page starts after that ID, whether or not it still exists.
//! A list in another order than by ID (devices by last check-in) needs the sort key too: its
//! cursor is the key and the ID joined by a dot ([`SeenCursor`]), equally readable and checked.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::api::Page;
use crate::api::page::{DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};

pub struct PageRequest {
    pub limit: u32,
    /// The last ID of the previous page.
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (422 outside 1–1000) and `cursor` (400 unless it is an ID that `parse_id`
    /// accepts, i.e. an ID of this list's item type).
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
    // Cursors are IDs (prefix, `_`, hex digits), so they need no JSON escaping.
    let cursor = match next_cursor {
        Some(cursor) => format!("\"{cursor}\""),
        None => "null".to_owned(),
    };
    let body = format!("{{\"data\":{items_json},\"next_cursor\":{cursor}}}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The cursor that continues a list after the item with this ID.
pub fn encode_cursor(id: &str) -> String {
    id.to_owned()
}

fn decode_cursor<I>(cursor: &str, parse_id: fn(&str) -> Option<I>) -> Result<String, ApiError> {
    parse_id(cursor).map(|_| cursor.to_owned()).ok_or_else(|| {
        ApiError::bad_request("the cursor is not valid for this list")
            .with_hint("pass back the `next_cursor` of the previous page unchanged")
    })
}

/// The position after a device in "last check-in, newest first; never seen last" order:
/// `SEEN.ID`, SEEN being the check-in time in nanoseconds since the Unix epoch or `never`.
/// The time is kept exactly (not rounded), so the next page starts right after that device
/// even when other devices checked in within the same second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCursor {
    pub seen: Option<chrono::DateTime<chrono::Utc>>,
    pub id: String,
}

/// What a [`SeenCursor`] says for a device never seen.
const NEVER_SEEN: &str = "never";

/// The OpenAPI pattern of a [`SeenCursor`] (the ID part is any well-formed ID of the list).
pub const SEEN_CURSOR_PATTERN: &str = "^(never|-?[0-9]{1,19})\\.[a-z]+_[0-9a-f]{32}$";

impl SeenCursor {
    pub fn encode(&self) -> String {
        let seen = match self.seen.and_then(|t| t.timestamp_nanos_opt()) {
            Some(nanos) => nanos.to_string(),
            None => NEVER_SEEN.to_owned(),
        };
        format!("{seen}.{}", self.id)
    }

    /// Reads `cursor` back (400 unless it is `SEEN.ID` with an ID `parse_id` accepts).
    pub fn decode<I>(cursor: &str, parse_id: fn(&str) -> Option<I>) -> Result<Self, ApiError> {
        let invalid = || {
            // 422 on the field: the cursor may have a declared shape yet belong to the other order.
            ApiError::invalid_field(
                "cursor",
                "the cursor is not valid for this list in this order",
            )
            .with_hint(
                "pass back the `next_cursor` of the previous page unchanged, with the same \
                     `sort`",
            )
        };
        let (seen, id) = cursor.split_once('.').ok_or_else(invalid)?;
        parse_id(id).ok_or_else(invalid)?;
        let seen = if seen == NEVER_SEEN {
            None
        } else {
            let nanos: i64 = seen.parse().map_err(|_| invalid())?;
            Some(chrono::DateTime::from_timestamp_nanos(nanos))
        };
        Ok(SeenCursor {
            seen,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DeviceId;

    #[test]
    fn a_seen_cursor_reads_back_exactly() {
        let id = DeviceId::generate().as_str().to_owned();
        let seen = chrono::DateTime::from_timestamp_nanos(1_764_596_000_123_456_789);
        let pattern = regex::Regex::new(SEEN_CURSOR_PATTERN).expect("pattern");
        for cursor in [
            SeenCursor {
                seen: Some(seen),
                id: id.clone(),
            },
            SeenCursor {
                seen: None,
                id: id.clone(),
            },
        ] {
            let text = cursor.encode();
            assert!(pattern.is_match(&text), "{text}");
            let back = SeenCursor::decode(&text, DeviceId::parse).expect("decodes");
            assert_eq!(back, cursor);
        }
        for bad in [id.as_str(), "never", "12.xyz", "soon.dev_00", ".", "1.2.3"] {
            assert!(SeenCursor::decode(bad, DeviceId::parse).is_err(), "{bad}");
        }
    }
}
