//! Cursor (keyset) pagination shared by every list endpoint.

use serde::{Deserialize, Serialize};

/// Smallest and largest page a client may ask for.
pub const MIN_LIMIT: u32 = 1;
pub const MAX_LIMIT: u32 = 1000;
/// Page size when the request names none.
pub const DEFAULT_LIMIT: u32 = 100;

/// One page of a list: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    /// The ID of this page's last item when another page follows; pass it back as `cursor` to
    /// get the next page. `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Every list query has `limit` and `cursor`; this lets the client page any of them generically.
pub trait PagedQuery: Clone {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>);
    /// The query as `key=value` pairs (repeated keys for lists, e.g. `tag`).
    fn to_pairs(&self) -> Vec<(&'static str, String)>;
}

/// Appends `limit` and `cursor` when set.
pub fn push_page_pairs(
    pairs: &mut Vec<(&'static str, String)>,
    limit: Option<u32>,
    cursor: &Option<String>,
) {
    if let Some(limit) = limit {
        pairs.push(("limit", limit.to_string()));
    }
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.clone()));
    }
}
