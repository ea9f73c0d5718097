//! Shared test harness: `server` starts the real service in-process, `cli` runs the real binary
//! in a sealed environment against it, `snapshot` holds the insta filters, `stub` scripts
//! failures.

pub mod cli;
pub mod server;
pub mod snapshot;
pub mod stub;
