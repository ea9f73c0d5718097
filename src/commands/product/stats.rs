//! `fleet product stats`.

use clap::Args;

use crate::commands::stats::{WatchArgs, show};
use crate::context::Context;
use crate::error::Result;

/// Show a product's statistics: devices, connection, firmware versions, rollouts
///
/// Devices in total, per cohort, without a cohort, quarantined and awaiting provisioning;
/// how many are online (seen within the service's online window) and were seen in the last
/// hour, 24 hours and 7 days; check-ins per hour over the last 24 hours; the versions each
/// artifact runs at; and the progress of each cohort's current release. `-o json` prints the
/// API object (stable field names).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet product stats indoor-sensor\n  \
    fleet product stats indoor-sensor --watch     # redraw every 5 s until Ctrl-C\n  \
    fleet product stats indoor-sensor -o json | jq .connection.online")]
pub struct StatsArgs {
    /// Product name or ID
    pub product: String,
    #[command(flatten)]
    pub watch: WatchArgs,
}

pub async fn run(ctx: &Context, args: StatsArgs) -> Result<()> {
    let stats = ctx.client()?.stats();
    show(ctx, &args.watch, || stats.product(&args.product)).await
}
