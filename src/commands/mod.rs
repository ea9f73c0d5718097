//! Dispatch from the parsed command line to one command's `run` (skeleton).

pub mod cohort;
pub mod completions;
pub mod device;
pub mod product;
pub mod profile;
#[cfg(feature = "server")]
pub mod server;

pub fn run(_cli: crate::Cli) -> u8 {
    1
}
