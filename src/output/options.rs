//! The choices the global flags make about output: the `-o` format and when to use colour.
//! Plain values; `cli.rs` offers them as flags through clap's `ValueEnum`.

use std::io::{self, IsTerminal};

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people, cut to fit the terminal
    Table,
    /// Every column (IDs too), never cut: `table` for a wide screen or a file
    Wide,
    /// JSON: the API object, or an array for lists
    Json,
    /// One JSON object per line
    Ndjson,
    /// One ID per line
    Id,
}

impl OutputFormat {
    /// `table` and `wide`: the formats for people.
    pub fn is_table(self) -> bool {
        matches!(self, OutputFormat::Table | OutputFormat::Wide)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether stderr gets colour. `no_color` is whether `NO_COLOR` is set (to anything
    /// non-empty), which wins over everything.
    pub fn enabled(self, no_color: bool) -> bool {
        self.enabled_on(io::stderr().is_terminal(), no_color)
    }

    /// Whether a stream gets colour, given whether it is a terminal (`auto` colours only
    /// terminals, so a pipe never gets escape codes unless asked with `always`).
    pub fn enabled_on(self, is_terminal: bool, no_color: bool) -> bool {
        match self {
            _ if no_color => false,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal,
        }
    }
}
