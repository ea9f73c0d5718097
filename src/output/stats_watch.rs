//! `--watch` of the statistics commands: how each refresh is written. On a terminal (in the
//! screen format) the screen is cleared and redrawn in place; otherwise each refresh is
//! appended, so a script or a log keeps every snapshot: a screen under a separator line with
//! its time, or for `-o json`/`ndjson` one compact JSON object per line.

use std::io::IsTerminal as _;

use super::{OutputFormat, Printer};
use crate::api::Stats;
use crate::error::Error;

/// Moves the cursor home and clears the terminal.
const CLEAR: &str = "\x1b[H\x1b[2J";

pub struct StatsWatch {
    printer: Printer,
    redraw: bool,
    frames: u64,
}

impl Printer {
    pub fn stats_watch(&self) -> StatsWatch {
        StatsWatch {
            printer: self.clone(),
            redraw: self.format().is_table() && std::io::stdout().is_terminal(),
            frames: 0,
        }
    }
}

impl StatsWatch {
    /// Writes one refresh.
    pub fn frame(&mut self, stats: &Stats) -> Result<(), Error> {
        self.frames += 1;
        let text = frame_text(&self.printer, stats, self.redraw, self.frames)?;
        self.printer.raw(text.as_bytes())
    }
}

/// What refresh number `frame` (from 1) writes; `redraw` on a terminal.
fn frame_text(printer: &Printer, stats: &Stats, redraw: bool, frame: u64) -> Result<String, Error> {
    Ok(match printer.format() {
        _ if redraw => format!("{CLEAR}{}", printer.stats_text(stats)?),
        OutputFormat::Json | OutputFormat::Ndjson => {
            let line = serde_json::to_string(stats)
                .map_err(|e| Error::failure("could not encode JSON output").with_source(e))?;
            format!("{line}\n")
        }
        OutputFormat::Id => printer.stats_text(stats)?,
        OutputFormat::Table | OutputFormat::Wide => {
            let at = stats.generated_at.format("%Y-%m-%d %H:%M:%S UTC");
            let separator = format!("──── {at} ────\n");
            let gap = if frame > 1 { "\n" } else { "" };
            format!("{gap}{separator}{}", printer.stats_text(stats)?)
        }
    })
}
