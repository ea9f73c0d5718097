//! Progress of long transfers on stderr: an indicatif bar on a terminal, a few plain lines
//! otherwise (at each quarter of a transfer of 16 MiB or more), nothing with `-q` or JSON output on a pipe.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::units::human_bytes;

use super::Printer;

/// Smallest transfer that gets plain progress lines: 16 MiB.
const PLAIN_MIN_BYTES: u64 = 16 * 1024 * 1024;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Option<Mutex<PlainState>>,
    label: String,
    total: u64,
}

struct PlainState {
    done: u64,
    next_quarter: u64,
}

impl Printer {
    /// Progress of work that runs beside another progress bar (hashing while uploading): the
    /// same plain lines without a terminal, and no bar of its own on one.
    pub fn progress_beside(&self, label: &str, total: u64) -> Progress {
        self.progress_with(label, total, false)
    }

    /// Progress over `total` bytes, labelled e.g. "uploading".
    pub fn progress(&self, label: &str, total: u64) -> Progress {
        self.progress_with(label, total, true)
    }

    fn progress_with(&self, label: &str, total: u64, with_bar: bool) -> Progress {
        let quiet = self.is_quiet();
        let terminal = std::io::stderr().is_terminal();
        let bar = (with_bar && !quiet && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            // `wide_bar` takes what the terminal's width leaves, so the line never wraps; the
            // byte counts use the units `firmware show` and the plain lines use.
            let style = ProgressStyle::with_template(
                "{msg} [{wide_bar}] {done}/{size} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "done",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&human_bytes(state.pos()));
                },
            )
            .with_key(
                "size",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&human_bytes(state.len().unwrap_or(0)));
                },
            )
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(label.to_owned());
            bar
        });
        // Without a terminal, only transfers long enough to wonder about get lines.
        let plain = (!quiet && !terminal && total >= PLAIN_MIN_BYTES).then(|| {
            Mutex::new(PlainState {
                done: 0,
                next_quarter: 1,
            })
        });
        Progress {
            bar,
            plain,
            label: label.to_owned(),
            total,
        }
    }
}

impl Progress {
    pub fn add(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
        if let (Some(plain), Some(total)) = (&self.plain, (self.total > 0).then_some(self.total)) {
            let Ok(mut state) = plain.lock() else {
                return;
            };
            state.done += bytes;
            // One line per quarter reached, however many a large step crossed, saying where
            // the transfer is (a part of 8 MiB can take a small file from 0 to 42 %).
            let done = state.done.min(total);
            let quarter = (done * 4 / total).min(4);
            if quarter >= state.next_quarter {
                eprintln!(
                    "{} {}% ({} of {})",
                    self.label,
                    done * 100 / total,
                    human_bytes(done),
                    human_bytes(total)
                );
                state.next_quarter = quarter + 1;
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
