//! The `-v` log: the client reports each request as a `tracing` event (target `fleet::…`), and
//! this subscriber prints those on stderr, one plain line each, dimmed when colour is on.

use std::fmt;
use std::io;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the stderr subscriber for `-v` (`verbose` > 0): debug events of this crate, never
/// those of the libraries below it. Does nothing if a subscriber is already installed (a test
/// embedding the CLI, say).
pub fn install(verbose: u8, color: bool) {
    if verbose == 0 {
        return;
    }
    let level = if verbose > 1 { "trace" } else { "debug" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(format!("fleet={level}")))
        .with_writer(io::stderr)
        .event_format(Line { color })
        .try_init();
}

/// One event, one line: just its message and fields, no timestamp, level or target.
struct Line {
    color: bool,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if self.color {
            writer.write_str("\x1b[2m")?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        if self.color {
            writer.write_str("\x1b[0m")?;
        }
        writeln!(writer)
    }
}
