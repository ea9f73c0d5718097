//! Everything the CLI shows: the [`Printer`] (stdout carries data only; status, warnings, hints
//! and errors go to stderr), the output formats and the per-resource table layouts.
//!
//! This is the one module allowed to write to stdout and stderr directly.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod access;
mod bars;
mod config_view;
mod device_view;
mod escape;
mod firmware;
mod identity;
mod list;
mod live;
mod options;
mod progress;
mod raw_list;
pub mod request_log;
mod resources;
mod sparkline;
mod stats_view;
mod stats_watch;
mod table;
mod units;
pub mod wording;

use std::io::{self, Write};

pub use access::{WhoamiView, scope_text};
pub use device_view::DeviceView;
pub use firmware::{PushResult, Released};
pub use list::{ListWriter, Paging};
pub use live::LiveLine;
pub use options::{ColorChoice, OutputFormat};
pub use progress::Progress;
pub use resources::{ProfileView, Resource};
pub use stats_watch::StatsWatch;
pub use table::TableLayout;

use crate::error::Error;

/// Decides where each kind of message goes and how it looks. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
    color: bool,
    table: TableLayout,
}

/// The label colours, as ANSI SGR parameters.
const RED: &str = "1;31";
const YELLOW: &str = "1;33";
const CYAN: &str = "1;36";

impl Printer {
    /// `color` is whether labels on stderr get colour (see [`ColorChoice::enabled`]); `quiet`
    /// silences status lines and hints.
    pub fn new(format: OutputFormat, color: bool, quiet: bool) -> Self {
        Printer {
            format,
            quiet,
            color,
            table: TableLayout::default(),
        }
    }

    /// How tables on stdout are drawn (width and colour); the default never cuts nor colours.
    pub fn with_table_layout(mut self, table: TableLayout) -> Self {
        self.table = table;
        self
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    fn label(&self, label: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{label}:\x1b[0m")
        } else {
            format!("{label}:")
        }
    }

    /// A short line about what just happened, e.g. "created product `x`". Silenced by `-q`.
    pub fn status(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// Something the user should know even with `-q`.
    pub fn warn(&self, msg: &str) {
        eprintln!("{} {msg}", self.label("warning", YELLOW));
    }

    /// What to do next. Silenced by `-q`.
    pub fn hint(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{} {msg}", self.label("hint", CYAN));
        }
    }

    /// Renders an error the way every command fails: `error:`, `caused by:` lines, then hints
    /// after a blank line. Hints are shown even with `-q`: they belong to the error.
    pub fn error(&self, err: &Error) {
        let _ = io::stderr()
            .lock()
            .write_all(self.render_error(err).as_bytes());
    }

    /// The text [`Printer::error`] writes. A declined confirmation is a plain `cancelled`
    /// line: the user chose it, so there is nothing to flag in red.
    pub fn render_error(&self, err: &Error) -> String {
        if err.declined {
            return format!("{}\n", err.message);
        }
        let mut out = format!("{} {}\n", self.label("error", RED), err.message);
        for cause in err.causes() {
            out.push_str(&format!("  caused by: {cause}\n"));
        }
        if !err.hints.is_empty() {
            out.push('\n');
            for hint in &err.hints {
                out.push_str(&format!("{} {hint}\n", self.label("hint", CYAN)));
            }
        }
        out
    }

    /// Prints one resource per `-o`: a key/value view for tables, the API object for JSON.
    pub fn show<R: Resource>(&self, item: &R) -> Result<(), Error> {
        let mut out = Vec::with_capacity(512);
        match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                resources::write_fields(&mut out, &item.fields())
            }
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut out, item).map_err(json_error)?;
                out.push(b'\n');
            }
            OutputFormat::Ndjson => {
                serde_json::to_writer(&mut out, item).map_err(json_error)?;
                out.push(b'\n');
            }
            OutputFormat::Id => {
                out.extend_from_slice(item.id().as_bytes());
                out.push(b'\n');
            }
        }
        self.raw(&out)
    }

    /// The statistics screen (see [`stats_view`]) for people, at the table width (80
    /// columns at most) and colour; the API object for `-o json` and `ndjson`; the scope's ID
    /// (release, else cohort, else product) for `-o id`.
    pub fn stats(&self, stats: &crate::api::Stats) -> Result<(), Error> {
        self.raw(self.stats_text(stats)?.as_bytes())
    }

    /// What [`Printer::stats`] writes.
    pub fn stats_text(&self, stats: &crate::api::Stats) -> Result<String, Error> {
        Ok(match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                let width = self.table.max_width.unwrap_or(stats_view::MAX_WIDTH);
                stats_view::render(stats, width, self.table.color)
            }
            OutputFormat::Json => serde_json::to_string_pretty(stats).map_err(json_error)? + "\n",
            OutputFormat::Ndjson => serde_json::to_string(stats).map_err(json_error)? + "\n",
            OutputFormat::Id => {
                let scope = &stats.scope;
                let id = match (&scope.release_id, &scope.cohort_id) {
                    (Some(release), _) => release.as_str(),
                    (None, Some(cohort)) => cohort.as_str(),
                    (None, None) => scope.product_id.as_str(),
                };
                format!("{id}\n")
            }
        })
    }

    /// Starts a streamed list in the chosen format; call [`ListWriter::finish`] at the end.
    pub fn list<R: Resource>(&self) -> ListWriter<R> {
        ListWriter::new(self.format, self.table)
    }

    /// Writes bytes to stdout as they are (completion scripts).
    pub fn raw(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .map_err(write_error)
    }
}

fn json_error(err: serde_json::Error) -> Error {
    if err.is_io() {
        write_error(io::Error::from(err))
    } else {
        Error::failure("could not encode JSON output").with_source(err)
    }
}

/// Wraps a failed write to stdout; [`is_broken_pipe`] recognises the closed-pipe case.
pub fn write_error(err: io::Error) -> Error {
    Error::failure("could not write to stdout").with_source(err)
}

/// True when the error is stdout's reader going away (`fleet device list | head -1`), which is
/// not a failure: the reader got what it wanted.
pub fn is_broken_pipe(err: &Error) -> bool {
    err.source.as_ref().is_some_and(|source| {
        source
            .chain()
            .filter_map(|cause| cause.downcast_ref::<io::Error>())
            .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_recognised_through_the_chain() {
        let err = write_error(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&err));
        let other = write_error(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!is_broken_pipe(&other));
        assert!(!is_broken_pipe(&Error::failure("x")));
    }
}
