//! `fleet ca …`: certificate authorities a product trusts for its devices, and a local CA for
//! development and factories.

mod add;
mod delete;
mod generate;
mod list;
mod show;
mod update;

use std::path::Path;

use clap::Subcommand;

use crate::context::Context;
use crate::error::{Result, io_error};

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Register a CA certificate for a product's devices
    Add(add::AddArgs),
    /// List certificate authorities, of one product or all
    List(list::ListArgs),
    /// Show one certificate authority
    Show(show::ShowArgs),
    /// Enable or disable a certificate authority or change its JITP settings
    Update(update::UpdateArgs),
    /// Delete a certificate authority
    Delete(delete::DeleteArgs),
    /// Make a new CA (certificate and key) in a local directory
    Generate(generate::GenerateArgs),
}

pub async fn run(ctx: &Context, command: CaCommand) -> Result<()> {
    match command {
        CaCommand::Add(args) => add::run(ctx, args).await,
        CaCommand::List(args) => list::run(ctx, args).await,
        CaCommand::Show(args) => show::run(ctx, args).await,
        CaCommand::Update(args) => update::run(ctx, args).await,
        CaCommand::Delete(args) => delete::run(ctx, args).await,
        CaCommand::Generate(args) => generate::run(ctx, args),
    }
}

/// The PEM text of a certificate file the user named.
pub fn read_pem(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|err| io_error("read", path, err))
}
