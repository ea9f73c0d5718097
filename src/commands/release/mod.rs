//! `fleet release …`: point a cohort at a bundle of its product, with a rollout percentage.

mod create;
mod list;
mod show;
mod status;
mod update;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Release a bundle to a cohort
    Create(create::CreateArgs),
    /// List a product's releases (a cohort's history with --cohort)
    List(list::ListArgs),
    /// Show one release
    Show(show::ShowArgs),
    /// Change a release's rollout percentage or whether it is required
    Update(update::UpdateArgs),
    /// Show how far a release got: states, success rate, failure reasons (--watch to follow)
    Status(status::StatusArgs),
}

pub async fn run(ctx: &Context, command: ReleaseCommand) -> Result<()> {
    match command {
        ReleaseCommand::Create(args) => create::run(ctx, args).await,
        ReleaseCommand::List(args) => list::run(ctx, args).await,
        ReleaseCommand::Show(args) => show::run(ctx, args).await,
        ReleaseCommand::Update(args) => update::run(ctx, args).await,
        ReleaseCommand::Status(args) => status::run(ctx, args).await,
    }
}
