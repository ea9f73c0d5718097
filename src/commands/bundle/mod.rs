//! `fleet bundle …`: immutable ordered sets of a product's binaries, the unit a release ships.

mod create;
mod list;
mod show;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Create a bundle from ready binaries of one product
    Create(create::CreateArgs),
    /// List a product's bundles
    List(list::ListArgs),
    /// Show one bundle
    Show(show::ShowArgs),
}

pub async fn run(ctx: &Context, command: BundleCommand) -> Result<()> {
    match command {
        BundleCommand::Create(args) => create::run(ctx, args).await,
        BundleCommand::List(args) => list::run(ctx, args).await,
        BundleCommand::Show(args) => show::run(ctx, args).await,
    }
}
