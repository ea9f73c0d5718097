//! `fleet release …`: point a cohort at a bundle of its product, with a rollout percentage or a
//! schedule and a guard, and halt, resume or promote a rollout.

mod create;
mod halt;
mod list;
mod promote;
mod resume;
mod show;
mod status;
mod update;
/// `--wait` for `fleet release status` (its own file, wired in by that command).
pub mod wait;

use clap::{Args, Subcommand};

use crate::api::{parse_rate, parse_schedule};
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
    /// Change a release's rollout, schedule, guard or whether it is required
    Update(update::UpdateArgs),
    /// Stop offering a release to devices that have not started it
    Halt(halt::HaltArgs),
    /// Offer a halted release again
    Resume(resume::ResumeArgs),
    /// Move a release's rollout to its next step (or --to a percentage) now
    Promote(promote::PromoteArgs),
    /// Show how far a release got: states, success rate, failure reasons (--watch to follow)
    Status(status::StatusArgs),
}

/// The schedule and guard flags of `release create` and `release update`.
#[derive(Debug, Args)]
pub struct RolloutControlArgs {
    /// Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies
    /// now, each later one when its wait (from the previous step) has passed and the release
    /// is not halted
    #[arg(long, value_name = "STEPS", value_parser = check_schedule)]
    pub schedule: Option<String>,
    /// Halt the release when more than this share of the devices that finished it failed
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub halt_on_failure_rate: Option<f64>,
    /// Devices that must have finished before the guard judges [default: 20]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub min_reports: Option<u64>,
}

/// The schedule as typed, once it reads (the service checks it again).
fn check_schedule(text: &str) -> std::result::Result<String, String> {
    parse_schedule(text).map(|_| text.to_owned())
}

/// The product to address release `release` under: the one given, else the one holding it.
async fn product_of(ctx: &Context, product: Option<String>, release: &str) -> Result<String> {
    match product {
        Some(product) => Ok(product),
        None => {
            let found = show::find(ctx, None, release).await?;
            Ok(found.product_id.as_str().to_owned())
        }
    }
}

pub async fn run(ctx: &Context, command: ReleaseCommand) -> Result<()> {
    match command {
        ReleaseCommand::Create(args) => create::run(ctx, args).await,
        ReleaseCommand::List(args) => list::run(ctx, args).await,
        ReleaseCommand::Show(args) => show::run(ctx, args).await,
        ReleaseCommand::Update(args) => update::run(ctx, args).await,
        ReleaseCommand::Halt(args) => halt::run(ctx, args).await,
        ReleaseCommand::Resume(args) => resume::run(ctx, args).await,
        ReleaseCommand::Promote(args) => promote::run(ctx, args).await,
        ReleaseCommand::Status(args) => status::run(ctx, args).await,
    }
}
