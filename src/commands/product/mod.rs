//! `fleet product …`: the device types of an organization.

mod archive;
mod create;
mod delete;
mod list;
mod show;
mod stats;
mod unarchive;
mod update;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Create a product
    Create(create::CreateArgs),
    /// List products
    List(list::ListArgs),
    /// Show one product
    Show(show::ShowArgs),
    /// Change a product's name, description or tags
    Update(update::UpdateArgs),
    /// Archive a product: it stays readable but accepts no new devices or cohorts
    Archive(archive::ArchiveArgs),
    /// Make an archived product active again
    Unarchive(unarchive::UnarchiveArgs),
    /// Delete a product that has no devices (its cohorts go with it)
    Delete(delete::DeleteArgs),
    /// Show a product's statistics: devices, connection, firmware, rollouts (--watch to follow)
    Stats(stats::StatsArgs),
}

pub async fn run(ctx: &Context, command: ProductCommand) -> Result<()> {
    match command {
        ProductCommand::Create(args) => create::run(ctx, args).await,
        ProductCommand::List(args) => list::run(ctx, args).await,
        ProductCommand::Show(args) => show::run(ctx, args).await,
        ProductCommand::Update(args) => update::run(ctx, args).await,
        ProductCommand::Archive(args) => archive::run(ctx, args).await,
        ProductCommand::Unarchive(args) => unarchive::run(ctx, args).await,
        ProductCommand::Delete(args) => delete::run(ctx, args).await,
        ProductCommand::Stats(args) => stats::run(ctx, args).await,
    }
}
