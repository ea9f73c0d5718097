//! Lists as streams of items: following `next_cursor` page by page, or reading one streamed
//! answer (`all=true`). A background task fetches and parses while the caller prints (on a
//! thread of its own for a list longer than a page); at most a couple of pages (or batches)
//! are held at once, so memory stays flat however many items the list has.

use futures_util::Stream;
use serde::de::DeserializeOwned;

use super::ApiClient;
use super::streamed_page::StreamedPage;
use crate::api::page::MAX_LIMIT;
use crate::api::{Page, PagedQuery};
use crate::error::{Error, ErrorKind, Result};

/// Items parsed from a streamed answer before they go to the caller as one batch.
const BATCH: usize = 500;

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
    // More than a page: the fetch gets a thread of its own.
    let long = max.is_none_or(|max| max >= u64::from(MAX_LIMIT));
    spawn_fetch(long, async move {
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
    items_of(rx)
}

/// Every item of one streamed list answer (`{"data":[…],"next_cursor":null}`) from `path`
/// with `query` (which asks for the whole list), in service order, parsed as the bytes arrive.
pub(super) fn stream_all<T, Q>(
    client: ApiClient,
    path: Vec<String>,
    query: Q,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: DeserializeOwned + Send + 'static,
    Q: PagedQuery + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<T>>>(2);
    spawn_fetch(true, async move {
        let pairs = query.to_pairs();
        if let Err(err) = read_streamed(&client, &path, pairs, &tx).await {
            let _ = tx.send(Err(err)).await;
        }
    });
    items_of(rx)
}

/// Starts `fetch`, the side of a list that reads and parses pages. For a list of more than a
/// page (`long`) on the process's list runtime, whose worker thread overlaps the caller's
/// printing (the caller's runtime has just its one thread). A bounded list, a page or so, runs
/// on the caller's runtime: the thread would cost more than the overlap gains. If no thread
/// can be had, the caller's runtime fetches the long list too, only without the overlap.
fn spawn_fetch(long: bool, fetch: impl Future<Output = ()> + Send + 'static) {
    match long.then(list_runtime).flatten() {
        Some(runtime) => {
            runtime.spawn(fetch);
        }
        None => {
            tokio::spawn(fetch);
        }
    }
}

/// The runtime long lists are fetched on: one per process, started by the first long list and
/// kept until the process exits.
///
/// Kept, not shut down after each list: the HTTP client's connection pool is shared by every
/// runtime of the process, and hyper runs each connection on the runtime that opened it. A
/// connection opened here goes back to the pool when its page is read, and the caller's next
/// request may take it (`release show ID` lists products, then asks the product that has the
/// release). With a runtime per list, shut down as its list ended, that request could sit on
/// a connection nobody drove any more: seen once in 400 `release show ID` runs on a loaded
/// machine (and once in CI), it failed at the 30 s timeout and the service's log shows it never
/// arrived.
fn list_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("fleet-list")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

/// Sends the items of the streamed answer to `tx` in batches; `Ok` also when the reader went
/// away.
async fn read_streamed<T: DeserializeOwned>(
    client: &ApiClient,
    path: &[String],
    pairs: Vec<(&'static str, String)>,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<T>>>,
) -> Result<()> {
    use futures_util::StreamExt;

    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    let mut url = client.url(&segments)?;
    url.query_pairs_mut().extend_pairs(pairs);
    let response = client.get_streamed(url).await?;
    let mut body = response.bytes_stream();
    let mut page = StreamedPage::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut received: u64 = 0;
    loop {
        let chunk = tokio::time::timeout(super::REQUEST_TIMEOUT, body.next()).await;
        let chunk = match chunk {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(err))) => {
                return Err(cut_off(
                    client,
                    received,
                    &super::error::transport_reason(&err),
                ));
            }
            Err(_) => return Err(cut_off(client, received, "no data for 30 s")),
        };
        page.feed(&chunk, &mut batch)
            .map_err(|problem| malformed(client, &problem))?;
        if batch.len() >= BATCH {
            received += batch.len() as u64;
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(Ok(full)).await.is_err() {
                return Ok(()); // The reader stopped early.
            }
        }
    }
    page.finish().map_err(|_| {
        cut_off(
            client,
            received + batch.len() as u64,
            "the answer ended early",
        )
    })?;
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch)).await;
    }
    Ok(())
}

/// A streamed list that stopped before its end: nothing after `received` items can be trusted
/// to be the whole list.
fn cut_off(client: &ApiClient, received: u64, reason: &str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "the fleet service at {} stopped sending the list after {received} items ({reason})",
            client.base_url()
        ),
    )
    .hint("the list printed is incomplete; run the command again")
}

fn malformed(client: &ApiClient, problem: &str) -> Error {
    Error::failure(format!(
        "unexpected response from the fleet service at {}: {problem}",
        client.base_url()
    ))
    .hint("the service may be a different version than this CLI")
}

/// The items of the batches `rx` receives, one at a time, then the error that ended them.
fn items_of<T>(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<T>>>,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: Send + 'static,
{
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
