//! Following `next_cursor` as a stream. A background task fetches (and parses) the next page
//! while the caller prints the current one; at most a couple of pages are held at once, so
//! memory stays flat however many items the list has.

use futures_util::Stream;
use serde::de::DeserializeOwned;

use super::ApiClient;
use crate::api::page::MAX_LIMIT;
use crate::api::{Page, PagedQuery};
use crate::error::Result;

/// Page size for a caller that wants at most `max` items: one more than it wants, so a single
/// page also tells whether more exist.
fn page_size(max: Option<u64>) -> u32 {
    match max {
        Some(max) => u32::try_from(max.saturating_add(1))
            .unwrap_or(MAX_LIMIT)
            .clamp(1, MAX_LIMIT),
        None => MAX_LIMIT,
    }
}

/// Items of every page of `path` matching `query`, in service order. With `max`, stops
/// fetching once more than `max` items arrived (the stream then yields at least `max + 1`
/// items when more exist, so callers can tell the user there is more).
pub(super) fn stream<T, Q>(
    client: ApiClient,
    path: Vec<String>,
    mut query: Q,
    max: Option<u64>,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: DeserializeOwned + Send + 'static,
    Q: PagedQuery + Send + 'static,
{
    // One page in the channel plus one being fetched: enough to overlap, little to hold.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<T>>>(1);
    let size = page_size(max);
    tokio::spawn(async move {
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let mut cursor = None;
        let mut fetched: u64 = 0;
        loop {
            query.set_page(Some(size), cursor.take());
            let mut url = match client.url(&segments) {
                Ok(url) => url,
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            };
            url.query_pairs_mut().extend_pairs(query.to_pairs());
            let page: Page<T> = match client.get(url).await {
                Ok(page) => page,
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            };
            fetched += page.data.len() as u64;
            let done = page.data.is_empty()
                || page.next_cursor.is_none()
                || max.is_some_and(|max| fetched > max);
            if tx.send(Ok(page.data)).await.is_err() {
                return; // The reader stopped early.
            }
            if done {
                return;
            }
            cursor = page.next_cursor;
        }
    });
    futures_util::stream::unfold(
        (rx, Vec::new().into_iter()),
        |(mut rx, mut current)| async move {
            loop {
                if let Some(item) = current.next() {
                    return Some((Ok(item), (rx, current)));
                }
                match rx.recv().await? {
                    Ok(page) => current = page.into_iter(),
                    Err(err) => return Some((Err(err), (rx, Vec::new().into_iter()))),
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_asks_for_one_more_than_wanted_within_bounds() {
        assert_eq!(page_size(Some(100)), 101);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(5000)), MAX_LIMIT);
        assert_eq!(page_size(Some(u64::MAX)), MAX_LIMIT);
        assert_eq!(page_size(None), MAX_LIMIT);
    }
}
