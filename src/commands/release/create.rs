//! `fleet release create`.

use clap::Args;

use crate::api::CreateRelease;
use crate::context::Context;
use crate::error::Result;

/// Release a bundle to a cohort. The bundle must be firmware of the cohort's own product.
///
/// With --schedule the rollout grows by itself: the first step applies now, each later step
/// once its wait (from the previous step) has passed and the release is not halted. With
/// --halt-on-failure-rate the service halts the release by itself when more than that share of
/// the devices that finished it failed (`failed` or `rolled_back`), once --min-reports devices
/// finished: no new device is offered it, devices mid-update may finish.
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet release create [OPTIONS] --product <PRODUCT> --cohort <COHORT>\n       --bundle <BUNDLE>",
    after_help = "Examples:\n  \
    fleet release create -P indoor-sensor --cohort beta --bundle spring-2026 \\\n    \
    --rollout 10\n  \
    fleet release create -P indoor-sensor -c beta -b spring-2026 \\\n    \
    --schedule 1%,10%@1h,50%@6h,100%@24h \\\n    \
    --halt-on-failure-rate 5% --min-reports 20")]
pub struct CreateArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    /// Cohort name or ID
    #[arg(long, short = 'c')]
    pub cohort: String,
    /// Bundle name or ID
    #[arg(long, short = 'b')]
    pub bundle: String,
    /// Share of the cohort's devices to roll out to [default: 100]
    #[arg(long, value_name = "PERCENT", conflicts_with = "schedule",
        value_parser = clap::value_parser!(u8).range(0..=100))]
    pub rollout: Option<u8>,
    /// Devices must install it
    #[arg(long)]
    pub required: bool,
    #[command(flatten)]
    pub control: super::RolloutControlArgs,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateRelease {
        cohort: args.cohort,
        bundle: args.bundle,
        rollout_percent: args.rollout,
        required: Some(args.required),
        schedule: args.control.schedule,
        halt_on_failure_rate: args.control.halt_on_failure_rate,
        min_reports: args.control.min_reports,
    };
    let release = ctx
        .client()?
        .firmware()
        .create_release(&args.product, &body)
        .await?;
    ctx.printer.show(&release)?;
    ctx.printer.status(&format!(
        "released bundle `{}` to cohort `{}` at {}% ({})",
        release.bundle, release.cohort, release.rollout_percent, release.id
    ));
    Ok(())
}
