//! `fleet`: a CLI for embedded-device fleets and the service it talks to, in one crate.
//!
//! Data flows one way: clap args ([`cli`]) → a command ([`commands`], dispatched by `app`) →
//! the typed client ([`client`]) → HTTP → the service's handlers ([`server`]) → its store.
//!
//! Imports follow the layers, never back up: `app` → `cli` → `commands` → `context`/`prompt` →
//! `client`, `config`, `output` → `api`, `error`. The service (`server`) uses only `api`.

pub mod api;
mod app;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod help;
pub mod output;
pub mod pki;
pub mod prompt;
#[cfg(feature = "server")]
pub mod server;
pub mod simulate;

pub use cli::Cli;

/// Runs a parsed command line to completion and returns the process exit code. Errors are
/// rendered here, once, on stderr.
pub fn run(cli: Cli) -> u8 {
    app::run(cli)
}
