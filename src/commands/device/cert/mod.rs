//! `fleet device cert …`: a device's X.509 client certificates, and issuing one under a local
//! CA.

mod add;
mod issue;
mod list;
mod revoke;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Register a certificate for a device
    Add(add::AddArgs),
    /// List a device's certificates
    List(list::ListArgs),
    /// Revoke a device's certificate
    Revoke(revoke::RevokeArgs),
    /// Issue a device certificate under a local CA directory
    Issue(issue::IssueArgs),
}

pub async fn run(ctx: &Context, command: CertCommand) -> Result<()> {
    match command {
        CertCommand::Add(args) => add::run(ctx, args).await,
        CertCommand::List(args) => list::run(ctx, args).await,
        CertCommand::Revoke(args) => revoke::run(ctx, args).await,
        CertCommand::Issue(args) => issue::run(ctx, args),
    }
}
