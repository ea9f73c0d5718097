//! `fleet cohort stats`.

use clap::Args;

use crate::commands::stats::{WatchArgs, show};
use crate::context::Context;
use crate::error::Result;

/// Show a cohort's statistics: its devices, their connection and firmware, its release
///
/// The figures of `fleet product stats` for the cohort's devices only, and the progress of
/// the cohort's current release. `-o json` prints the API object.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet cohort stats beta --product indoor-sensor\n  \
    fleet cohort stats beta -P indoor-sensor --watch 10")]
pub struct StatsArgs {
    /// Cohort name or ID
    pub cohort: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    #[command(flatten)]
    pub watch: WatchArgs,
}

pub async fn run(ctx: &Context, args: StatsArgs) -> Result<()> {
    let stats = ctx.client()?.stats();
    show(ctx, &args.watch, || {
        stats.cohort(&args.product, &args.cohort)
    })
    .await
}
