//! Shared test harness: `backend` picks the database of a run, `server` starts the real service in-process, `cli` runs the real binary
//! in a sealed environment against it, `snapshot` holds the insta filters, `stub` scripts
//! failures.

pub mod backend;
pub mod cli;
pub mod device;
pub mod replica;
pub mod server;
pub mod snapshot;
pub mod stub;
