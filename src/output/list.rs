//! Streamed list output: JSON arrays, NDJSON and IDs are written item by item so memory stays
//! flat however long the list is; tables buffer one chunk of rows at a time for column widths.

use std::io::{self, BufWriter, Stdout, Write};
use std::marker::PhantomData;
use std::pin::pin;

use futures_util::{Stream, StreamExt};

use super::resources::Resource;
use super::table::{TableLayout, write_table};
use super::{OutputFormat, Printer, json_error, write_error};
use crate::error::Error;

/// Rows a table holds before printing them; later chunks keep the widths seen so far.
const TABLE_CHUNK: usize = 1000;

/// How much of a list to print, and where that bound came from (which decides the hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Every item.
    All,
    /// The first page a table shows when the user asked for no bound.
    DefaultPage(u64),
    /// The user's `--limit`.
    Limit(u64),
}

impl Paging {
    /// The most items to fetch and print; `None` for everything.
    pub fn max(self) -> Option<u64> {
        match self {
            Paging::All => None,
            Paging::DefaultPage(max) | Paging::Limit(max) => Some(max),
        }
    }
}

pub struct ListWriter<R> {
    format: OutputFormat,
    out: BufWriter<Stdout>,
    count: u64,
    /// Scratch space for one pretty-printed JSON item.
    scratch: Vec<u8>,
    rows: Vec<Vec<String>>,
    widths: Vec<usize>,
    layout: TableLayout,
    _item: PhantomData<fn(&R)>,
}

impl<R: Resource> ListWriter<R> {
    pub(super) fn new(format: OutputFormat, layout: TableLayout) -> Self {
        // `wide` is the whole table, never cut.
        let layout = match format {
            OutputFormat::Wide => TableLayout {
                max_width: None,
                ..layout
            },
            _ => layout,
        };
        ListWriter {
            format,
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            count: 0,
            scratch: Vec::new(),
            rows: Vec::new(),
            widths: Vec::new(),
            layout,
            _item: PhantomData,
        }
    }

    /// How many items were pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn push(&mut self, item: &R) -> Result<(), Error> {
        self.count += 1;
        match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                self.rows.push(self.shown_cells(item.row()));
                if self.rows.len() >= TABLE_CHUNK {
                    self.flush_table()?;
                }
            }
            OutputFormat::Json => {
                let sep: &[u8] = if self.count == 1 { b"[\n  " } else { b",\n  " };
                self.out.write_all(sep).map_err(write_error)?;
                self.scratch.clear();
                serde_json::to_writer_pretty(&mut self.scratch, item).map_err(json_error)?;
                // Raw newlines only occur between tokens (inside strings they are escaped), so
                // indenting after each one nests the object inside the array.
                for (i, line) in self.scratch.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        self.out.write_all(b"\n  ").map_err(write_error)?;
                    }
                    self.out.write_all(line).map_err(write_error)?;
                }
            }
            OutputFormat::Ndjson => {
                serde_json::to_writer(&mut self.out, item).map_err(json_error)?;
                self.out.write_all(b"\n").map_err(write_error)?;
            }
            OutputFormat::Id => {
                self.out
                    .write_all(item.id().as_bytes())
                    .and_then(|()| self.out.write_all(b"\n"))
                    .map_err(write_error)?;
            }
        }
        Ok(())
    }

    /// Whether column `title` is shown in this format (see [`Resource::wide_only`]).
    fn shows(&self, title: &str) -> bool {
        self.format == OutputFormat::Wide || !R::wide_only().contains(&title)
    }

    fn shown_cells(&self, row: Vec<String>) -> Vec<String> {
        R::headers()
            .iter()
            .zip(row)
            .filter(|(title, _)| self.shows(title))
            .map(|(_, cell)| cell)
            .collect()
    }

    fn flush_table(&mut self) -> Result<(), Error> {
        let header = self.widths.is_empty();
        let rows = std::mem::take(&mut self.rows);
        let headers: Vec<&str> = R::headers()
            .iter()
            .copied()
            .filter(|title| self.shows(title))
            .collect();
        let text = write_table(&headers, rows, header, &mut self.widths, self.layout);
        self.out.write_all(text.as_bytes()).map_err(write_error)
    }

    /// Closes the list (`]` for JSON, remaining table rows) and flushes stdout.
    pub fn finish(mut self) -> Result<u64, Error> {
        match self.format {
            OutputFormat::Json if self.count == 0 => {
                self.out.write_all(b"[]\n").map_err(write_error)?;
            }
            OutputFormat::Json => self.out.write_all(b"\n]\n").map_err(write_error)?,
            OutputFormat::Table | OutputFormat::Wide if !self.rows.is_empty() => {
                self.flush_table()?;
            }
            _ => {}
        }
        self.out.flush().map_err(write_error)?;
        Ok(self.count)
    }
}

impl Printer {
    /// Prints a stream of resources in the chosen format, as much as `paging` allows, and says
    /// on stderr when the list was cut short. `plural` names the items ("devices"). Returns how
    /// many were printed.
    pub async fn print_stream<R, S>(
        &self,
        stream: S,
        paging: Paging,
        plural: &str,
    ) -> Result<u64, Error>
    where
        R: Resource,
        S: Stream<Item = Result<R, Error>>,
    {
        let mut stream = pin!(stream);
        let mut writer = self.list::<R>();
        let limit = paging.max();
        let mut more = false;
        while let Some(item) = stream.next().await {
            let item = item?;
            if limit.is_some_and(|limit| writer.count() >= limit) {
                more = true;
                break;
            }
            writer.push(&item)?;
        }
        let count = writer.finish()?;
        if more {
            match paging {
                // The user chose the bound, so only say that more exist.
                Paging::Limit(_) => self.status(&format!(
                    "showing the first {count} {plural} (--limit {count}); more exist"
                )),
                _ => self.hint(&format!(
                    "showing the first {count} {plural}; pass --limit N or --all to see more"
                )),
            }
        } else if count == 0 && self.format().is_table() {
            self.status(&format!("no {plural}"));
        }
        Ok(count)
    }
}
