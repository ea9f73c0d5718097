//! `fleet cohort …`: named groups of devices within one product.

mod assign;
mod create;
mod delete;
mod list;
mod show;
mod stats;
mod unassign;
mod update;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum CohortCommand {
    /// Create a cohort in a product
    Create(create::CreateArgs),
    /// List cohorts, of one product or all
    List(list::ListArgs),
    /// Show one cohort
    Show(show::ShowArgs),
    /// Rename a cohort or change its description
    Update(update::UpdateArgs),
    /// Delete a cohort
    Delete(delete::DeleteArgs),
    /// Put devices into a cohort
    Assign(assign::AssignArgs),
    /// Take devices out of their cohorts
    Unassign(unassign::UnassignArgs),
    /// Show a cohort's statistics: devices, connection, firmware, its release (--watch to follow)
    Stats(stats::StatsArgs),
}

pub async fn run(ctx: &Context, command: CohortCommand) -> Result<()> {
    match command {
        CohortCommand::Create(args) => create::run(ctx, args).await,
        CohortCommand::List(args) => list::run(ctx, args).await,
        CohortCommand::Show(args) => show::run(ctx, args).await,
        CohortCommand::Update(args) => update::run(ctx, args).await,
        CohortCommand::Delete(args) => delete::run(ctx, args).await,
        CohortCommand::Stats(args) => stats::run(ctx, args).await,
        CohortCommand::Assign(args) => assign::run(ctx, args).await,
        CohortCommand::Unassign(args) => unassign::run(ctx, args).await,
    }
}
