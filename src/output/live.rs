//! A live status line on stderr for long-running commands (`fleet simulate`): one line
//! rewritten in place on a terminal, a plain line every few seconds otherwise, nothing with `-q`.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use super::Printer;

/// How often a terminal's line is redrawn.
const TERMINAL_EVERY: Duration = Duration::from_millis(250);
/// How often a plain line is printed when stderr is not a terminal (CI logs).
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct LiveLine {
    terminal: bool,
    quiet: bool,
}

impl Printer {
    pub fn live_line(&self) -> LiveLine {
        LiveLine {
            terminal: std::io::stderr().is_terminal(),
            quiet: self.is_quiet(),
        }
    }
}

impl LiveLine {
    /// How often to call [`LiveLine::show`]; `None` when nothing would be shown.
    pub fn every(&self) -> Option<Duration> {
        match (self.quiet, self.terminal) {
            (true, _) => None,
            (false, true) => Some(TERMINAL_EVERY),
            (false, false) => Some(PLAIN_EVERY),
        }
    }

    pub fn show(&self, line: &str) {
        if self.quiet {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
    }

    /// Clears the terminal's line, so what follows starts on a clean one.
    pub fn finish(&self) {
        if self.terminal && !self.quiet {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}
