//! `fleet release status`.

use clap::Args;

use crate::commands::stats::{WatchArgs, show};
use crate::context::Context;
use crate::error::Result;

/// Show how far a release got: offered, each update state, success rate, failure reasons
///
/// The release's devices by the furthest state they reported (pending, downloading,
/// installing, succeeded, failed, rolled back), the success rate among those that finished,
/// the most common failure reasons, the median time from offer to success, and the devices
/// of its cohort (connection, firmware). `-o json` prints the API object.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet release status rel_0193…\n  \
    fleet release status rel_0193… --watch        # redraw every 5 s until Ctrl-C\n  \
    fleet release status rel_0193… -o json | jq '.updates[0].success_rate'\n  \
    # a CI gate:\n  \
    fleet release status rel_0193… --wait --success-rate 98% --timeout 2h\n\n\
Exit codes with --wait: 0 reached, 9 halted or below --success-rate, 3 at --timeout.")]
pub struct StatusArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
    #[command(flatten)]
    pub watch: WatchArgs,
    #[command(flatten)]
    pub wait: super::wait::WaitArgs,
}

pub async fn run(ctx: &Context, args: StatusArgs) -> Result<()> {
    // Found once, by ID across products when no product is given; then its figures.
    let release = super::show::find(ctx, args.product.as_deref(), &args.release).await?;
    let client = ctx.client()?;
    let stats = client.stats();
    let product = release.product_id.as_str();
    let id = release.id.as_str();
    if args.wait.wait {
        // Progress lines on stderr, one per change (never a redraw: CI logs stay readable);
        // the figures once the bar is reached on stdout.
        let firmware = client.firmware();
        super::wait::wait(
            &args.wait,
            || firmware.release(product, id),
            |line| ctx.printer.status(line),
        )
        .await?;
        return show(ctx, &WatchArgs::default(), || stats.release(product, id)).await;
    }
    show(ctx, &args.watch, || stats.release(product, id)).await
}
