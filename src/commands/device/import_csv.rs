//! The CSV file of `fleet device import`: checked whole first (header, quoting, row count),
//! then read again, row by row, each time its rows are sent, so no copy of all its rows is
//! ever held. Standard input can only be read once, so it is kept as the raw text.

use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::ImportRow;
use crate::error::{Error, Result, io_error};

const COLUMNS: [&str; 5] = ["identifier", "description", "tags", "target", "cohort"];

/// Where the rows are read from, each time they are read.
#[derive(Clone)]
enum Source {
    File(PathBuf),
    Stdin(Arc<[u8]>),
}

impl Source {
    fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Source::File(path) => Box::new(io::BufReader::new(std::fs::File::open(path)?)),
            Source::Stdin(text) => Box::new(io::Cursor::new(Arc::clone(text))),
        })
    }
}

/// Which column holds which field.
#[derive(Clone, Copy)]
struct Layout {
    identifier: usize,
    description: Option<usize>,
    tags: Option<usize>,
    target: Option<usize>,
    cohort: Option<usize>,
}

impl Layout {
    fn from_header(headers: &csv::StringRecord, name: &str) -> Result<Layout> {
        if let Some(unknown) = headers
            .iter()
            .find(|h| !COLUMNS.iter().any(|c| h.eq_ignore_ascii_case(c)))
        {
            return Err(Error::usage(format!("{name}: unknown column `{unknown}`"))
                .hint(format!("the columns are: {}", COLUMNS.join(", "))));
        }
        let position = |column: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(column));
        let Some(identifier) = position("identifier") else {
            return Err(
                Error::usage(format!("{name}: the header has no `identifier` column"))
                    .hint("the first line names the columns, e.g. `identifier,tags,target`"),
            );
        };
        let [description, tags, target, cohort] =
            ["description", "tags", "target", "cohort"].map(position);
        Ok(Layout {
            identifier,
            description,
            tags,
            target,
            cohort,
        })
    }

    /// One record as a row; empty cells are unset. Field values are checked by the service.
    fn row(self, record: &csv::StringRecord) -> ImportRow {
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        ImportRow {
            line: record.position().map(csv::Position::line),
            identifier: cell(Some(self.identifier)).unwrap_or_default(),
            description: cell(self.description),
            tags: cell(self.tags).map(|t| {
                t.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            target: cell(self.target),
            cohort: cell(self.cohort),
        }
    }
}

fn csv_reader(reader: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader)
}

/// A checked import file.
pub struct CsvFile {
    source: Source,
    name: String,
    layout: Layout,
    /// The line each well-formed row starts on (rows can span lines), in order.
    lines: Vec<u64>,
    /// Rows that could not be read as rows (wrong number of cells, not UTF-8), by line.
    malformed: Vec<(u64, String)>,
}

impl CsvFile {
    /// Reads the file once to check it: a bad header is a usage error; rows that cannot be
    /// read as rows are kept as [`CsvFile::malformed`], so the caller can report them with the
    /// problems the service finds in the other rows, in one pass.
    pub fn open(path: &Path) -> Result<CsvFile> {
        let (source, name) = if path == Path::new("-") {
            let mut text = Vec::new();
            io::stdin()
                .read_to_end(&mut text)
                .map_err(|err| Error::failure("could not read stdin").with_source(err))?;
            (Source::Stdin(text.into()), "stdin".to_owned())
        } else {
            (Source::File(path.to_owned()), path.display().to_string())
        };
        Self::check(source, name, path)
    }

    fn check(source: Source, name: String, path: &Path) -> Result<CsvFile> {
        let reader = source.reader().map_err(|err| io_error("read", path, err))?;
        let mut reader = csv_reader(reader);
        let headers = reader
            .headers()
            .map_err(|err| Error::usage(format!("{name}: could not read the header row: {err}")))?;
        let layout = Layout::from_header(headers, &name)?;
        let mut lines = Vec::new();
        let mut malformed = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => lines.push(record.position().map_or(0, csv::Position::line)),
                Ok(false) => break,
                Err(err) if err.is_io_error() => {
                    return Err(io_error("read", path, io::Error::other(err)));
                }
                Err(err) => malformed.push(describe(&err)),
            }
        }
        Ok(CsvFile {
            source,
            name,
            layout,
            lines,
            malformed,
        })
    }

    /// Rows that are not rows of this file's shape, as (line, problem), in line order.
    pub fn malformed(&self) -> &[(u64, String)] {
        &self.malformed
    }

    /// The file as the user named it (`stdin` for `-`).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn row_count(&self) -> usize {
        self.lines.len()
    }

    /// The lines rows `rows` span, e.g. "lines 2–10001" (or "line 7").
    pub fn lines(&self, rows: &Range<usize>) -> String {
        let first = self.lines.get(rows.start).copied().unwrap_or(0);
        let last = rows
            .end
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or(first);
        if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}–{last}")
        }
    }

    /// Rows `rows` (0-based, header excluded), read afresh from the file.
    pub fn read(
        &self,
        rows: Range<usize>,
    ) -> Box<dyn Iterator<Item = io::Result<ImportRow>> + Send> {
        let layout = self.layout;
        match self.source.reader() {
            Ok(reader) => Box::new(
                csv_reader(reader)
                    .into_records()
                    // Malformed rows were reported by `check`; rows count well-formed ones.
                    .filter(usable)
                    .skip(rows.start)
                    .take(rows.len())
                    .map(move |record| {
                        record
                            .map(|record| layout.row(&record))
                            .map_err(io::Error::other)
                    }),
            ),
            Err(err) => Box::new(std::iter::once(Err(err))),
        }
    }
}

/// A record the reader refused, in words: its line and what is wrong with it.
fn describe(err: &csv::Error) -> (u64, String) {
    let line = |pos: &Option<csv::Position>| pos.as_ref().map_or(0, csv::Position::line);
    match err.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            line(pos),
            format!(
                "{len} {} where the header has {expected_len} (a missing or extra comma, or a \
                 quote left open?)",
                if *len == 1 { "cell" } else { "cells" }
            ),
        ),
        csv::ErrorKind::Utf8 { pos, err } => (
            line(pos),
            format!("cell {} is not UTF-8 text", err.field() + 1),
        ),
        _ => (0, err.to_string()),
    }
}

/// A record read is usable, or a failure to read the file at all (passed on).
fn usable(record: &csv::Result<csv::StringRecord>) -> bool {
    record
        .as_ref()
        .map_or_else(csv::Error::is_io_error, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<CsvFile> {
        let source = Source::Stdin(text.as_bytes().into());
        CsvFile::check(source, "f.csv".to_owned(), Path::new("f.csv"))
    }

    #[test]
    fn columns_in_any_order_with_line_numbers() {
        let text = "tags,identifier,target\n\"site:a;tier:1\",sn-1,\n,\"sn-2\",armv7\n";
        let Ok(csv) = file(text) else {
            panic!("the file is valid");
        };
        let rows: Vec<ImportRow> = csv.read(0..2).filter_map(io::Result::ok).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, Some(2));
        assert_eq!(rows[0].tags, Some(vec!["site:a".into(), "tier:1".into()]));
        assert_eq!(rows[0].target, None);
        assert_eq!(rows[1].identifier, "sn-2");
        assert_eq!(rows[1].tags, None);
        assert_eq!(rows[1].target.as_deref(), Some("armv7"));
        let second: Vec<ImportRow> = csv.read(1..2).filter_map(io::Result::ok).collect();
        assert_eq!(second, rows[1..]);
        assert_eq!(csv.lines(&(0..2)), "lines 2–3");
    }

    #[test]
    fn unknown_column_and_missing_identifier_are_refused() {
        assert!(file("identifier,colour\nsn-1,red\n").is_err());
        assert!(file("description\nx\n").is_err());
    }
}
