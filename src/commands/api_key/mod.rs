//! `fleet api-key …`: the organization's API keys (admin keys only).

mod create;
mod list;
mod revoke;
mod show;

use std::time::Duration;

use clap::Subcommand;

use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key; its secret is printed once
    Create(create::CreateArgs),
    /// List API keys (never their secrets)
    List(list::ListArgs),
    /// Show one API key
    Show(show::ShowArgs),
    /// Revoke an API key: it stops working with the next request
    Revoke(revoke::RevokeArgs),
}

pub async fn run(ctx: &Context, command: ApiKeyCommand) -> Result<()> {
    match command {
        ApiKeyCommand::Create(args) => create::run(ctx, args).await,
        ApiKeyCommand::List(args) => list::run(ctx, args).await,
        ApiKeyCommand::Show(args) => show::run(ctx, args).await,
        ApiKeyCommand::Revoke(args) => revoke::run(ctx, args).await,
    }
}

/// Parses a duration such as `90d`, `12h` or `1h 30m` (clap value parser).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("{err}; use a duration such as 90d, 12h or 30m"))
}

/// `now + duration` as a UTC time; a usage error when it overflows.
pub fn after(duration: Duration) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::TimeDelta::from_std(duration)
        .ok()
        .and_then(|delta| chrono::Utc::now().checked_add_signed(delta))
        .ok_or_else(|| Error::usage("that duration is too long"))
}
