//! The choices the global flags make about output: the `-o` format and when to use colour.
//! Plain values; `cli.rs` offers them as flags through clap's `ValueEnum`.

use std::io::{self, IsTerminal};

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people
    Table,
    /// JSON: the API object, or an array for lists
    Json,
    /// One JSON object per line
    Ndjson,
    /// One ID per line
    Id,
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
        match self {
            _ if no_color => false,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => io::stderr().is_terminal(),
        }
    }
}
