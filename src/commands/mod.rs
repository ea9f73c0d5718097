//! The commands, one module per noun, each with its clap arguments and its `run`; and the
//! arguments every list command shares. `app.rs` dispatches to them.

pub mod api_key;
pub mod bulk;
pub mod bundle;
pub mod by_id;
pub mod ca;
pub mod cohort;
pub mod completions;
pub mod config;
pub mod device;
pub mod event;
pub mod firmware;
pub mod if_not_exists;
pub mod product;
pub mod profile;
pub mod release;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod server_blobs;
#[cfg(feature = "server")]
pub mod server_keys;
#[cfg(feature = "server")]
pub mod server_migrate;
#[cfg(feature = "server")]
pub mod server_profile;
pub mod signing_key;
pub mod simulate;
pub mod stats;
pub mod whoami;

use clap::Args;

use crate::output::{OutputFormat, Paging};

/// A `--limit`: a whole number from 1 (clap's own range check would name `u64::MAX` as the
/// upper bound).
fn parse_limit(text: &str) -> std::result::Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => {
            Err("must be at least 1 (leave --limit out, or pass --all, for every item)".into())
        }
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// `--limit` / `--all`, shared by every list command.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Print at most N items [default: 100 in a table; json, ndjson and id print every item]
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub limit: Option<u64>,

    /// Print every item, following pages to the end (streams; memory stays flat)
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// Items a table shows when neither `--limit` nor `--all` is given.
pub const TABLE_PAGE: u64 = 100;

impl PageArgs {
    /// How much of the list to print in `format`. Machine formats are complete unless the user
    /// set `--limit`: a script reading JSON cannot see a "there is more" hint on stderr, so a
    /// silent default page would look like the whole list.
    pub fn paging(&self, format: OutputFormat) -> Paging {
        match (self.limit, self.all) {
            (Some(limit), _) => Paging::Limit(limit),
            (None, true) => Paging::All,
            (None, false) if format == OutputFormat::Table => Paging::DefaultPage(TABLE_PAGE),
            (None, false) => Paging::All,
        }
    }
}
