//! The body of `POST /v1/bulk/import`, written row by row while it is sent: the rows are read
//! and encoded on a blocking thread and handed to the request in pieces, so an import of any
//! size holds a few pieces in memory, never the whole file, its rows or its JSON.

use std::io::{self, Write};
use std::sync::Mutex;

use bytes::Bytes;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};
use tokio::sync::mpsc;

use crate::api::{BulkListing, ImportDevices, ImportRow};

/// Bytes handed to the request at a time.
const PIECE: usize = 64 * 1024;
/// Pieces encoded ahead of the network.
const AHEAD: usize = 4;

/// [`ImportDevices`] with its rows drawn from an iterator instead of a vector. Field for field
/// the same JSON (a test decodes one into the other), so the service cannot tell them apart.
#[derive(Serialize)]
#[serde(bound(serialize = "I: Iterator<Item = io::Result<ImportRow>>"))]
struct StreamedImport<'a, I> {
    product: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cohort: Option<&'a str>,
    devices: Rows<I>,
    update: bool,
    dry_run: bool,
    #[serde(skip_serializing_if = "BulkListing::is_default")]
    list: BulkListing,
}

/// Serializes as a JSON array of the rows the iterator yields; a row that cannot be read ends
/// the body with that error. Serialize takes `&self`, hence the lock around the iterator.
struct Rows<I>(Mutex<Option<I>>);

impl<I: Iterator<Item = io::Result<ImportRow>>> Serialize for Rows<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rows = self
            .0
            .lock()
            .map_err(|_| S::Error::custom("the row reader failed"))?
            .take()
            .ok_or_else(|| S::Error::custom("the rows were already sent"))?;
        let mut seq = serializer.serialize_seq(None)?;
        for row in rows {
            seq.serialize_element(&row.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

/// Collects encoded bytes into pieces and sends each one on; fails once the request is gone.
struct PieceWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<io::Result<Bytes>>,
}

impl PieceWriter {
    fn send(&mut self) -> io::Result<()> {
        let piece = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE)));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the request was dropped"))
    }
}

impl Write for PieceWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}

/// Writes `head` (whose `devices` are ignored) as JSON with the rows of `rows` as its devices.
fn encode<I>(head: &ImportDevices, rows: I, writer: impl Write) -> io::Result<()>
where
    I: Iterator<Item = io::Result<ImportRow>>,
{
    let request = StreamedImport {
        product: &head.product,
        cohort: head.cohort.as_deref(),
        devices: Rows(Mutex::new(Some(rows))),
        update: head.update,
        dry_run: head.dry_run,
        list: head.list,
    };
    serde_json::to_writer(writer, &request).map_err(io::Error::other)
}

/// A request body that encodes `head` (whose `devices` are ignored) with the rows of `rows`
/// as it is sent. Must be called inside the tokio runtime (it starts a blocking task).
pub fn body<I>(head: &ImportDevices, rows: I) -> reqwest::Body
where
    I: Iterator<Item = io::Result<ImportRow>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(AHEAD);
    let head = ImportDevices {
        devices: Vec::new(),
        ..head.clone()
    };
    tokio::task::spawn_blocking(move || {
        let mut writer = PieceWriter {
            buf: Vec::with_capacity(PIECE),
            tx: tx.clone(),
        };
        let written = encode(&head, rows, &mut writer).and_then(|()| writer.flush());
        if let Err(err) = written {
            // The request sees the failure as its body's error, and stops.
            let _ = tx.blocking_send(Err(err));
        }
    });
    let pieces = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    });
    reqwest::Body::wrap_stream(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> ImportDevices {
        ImportDevices {
            product: "p \"q\"".into(),
            cohort: Some("beta".into()),
            devices: vec![
                ImportRow {
                    line: Some(2),
                    identifier: "sn-1".into(),
                    description: Some("d".into()),
                    tags: Some(vec!["a:b".into()]),
                    target: Some("armv7".into()),
                    cohort: Some("c".into()),
                },
                ImportRow {
                    identifier: "sn-2".into(),
                    ..ImportRow::default()
                },
            ],
            update: true,
            dry_run: true,
            list: BulkListing::Ids,
        }
    }

    #[test]
    fn the_streamed_body_is_the_import_request() {
        for request in [full(), ImportDevices::default()] {
            let rows = request.devices.clone().into_iter().map(Ok);
            let mut bytes = Vec::new();
            assert!(encode(&request, rows, &mut bytes).is_ok());
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                serde_json::to_string(&request).unwrap_or_default()
            );
            let decoded: Option<ImportDevices> = serde_json::from_slice(&bytes).ok();
            assert!(decoded.is_some_and(|d| d.devices == request.devices));
        }
    }

    #[test]
    fn a_row_that_cannot_be_read_ends_the_body_with_its_error() {
        let rows = vec![
            Ok(ImportRow::default()),
            Err(io::Error::other("line 3 changed")),
        ];
        let mut bytes = Vec::new();
        let err = encode(&ImportDevices::default(), rows.into_iter(), &mut bytes);
        assert!(err.is_err_and(|e| e.to_string().contains("line 3 changed")));
    }
}
