//! The commands, one module per noun, each with its clap arguments and its `run`; and the
//! arguments every list command shares. `app.rs` dispatches to them.

pub mod api_key;
pub mod bulk;
pub mod bundle;
pub mod cohort;
pub mod completions;
pub mod device;
pub mod event;
pub mod firmware;
pub mod product;
pub mod profile;
pub mod release;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod server_keys;
#[cfg(feature = "server")]
pub mod server_profile;
pub mod signing_key;
pub mod whoami;

use clap::Args;

/// `--limit` / `--all`, shared by every list command.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Print at most N items
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,

    /// Print every item, following pages to the end (streams; memory stays flat)
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

impl PageArgs {
    /// The most items to print; `None` for everything.
    pub fn max(&self) -> Option<u64> {
        (!self.all).then_some(self.limit)
    }
}
