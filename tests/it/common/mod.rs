//! Shared test harness: `server` starts the real service in-process, `cli` runs the real binary
//! in a sealed environment against it.

pub mod cli;
pub mod server;
