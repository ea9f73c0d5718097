//! `fleet release update`.

use clap::Args;

use crate::api::UpdateRelease;
use crate::context::Context;
use crate::error::{Error, Result};

/// Change a release's rollout percentage, schedule, guard, or whether devices must install it.
///
/// --rollout takes the release off its schedule; --schedule replaces it and starts over at its
/// first step now. A halted release stays halted (see `fleet release resume`).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet release update rel_0193… --rollout 50\n  \
    fleet release update rel_0193… --rollout 0   # offer it to no device\n  \
    fleet release update rel_0193… --schedule 10%,50%@6h,100%@24h\n  \
    fleet release update rel_0193… --halt-on-failure-rate 2% --min-reports 50"
)]
pub struct UpdateArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
    /// New rollout percentage (the release leaves its schedule)
    #[arg(long, value_name = "PERCENT", conflicts_with = "schedule",
        value_parser = clap::value_parser!(u8).range(0..=100))]
    pub rollout: Option<u8>,
    /// Whether devices must install it
    #[arg(long, value_name = "BOOL")]
    pub required: Option<bool>,
    #[command(flatten)]
    pub control: super::RolloutControlArgs,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    let control = args.control;
    if args.rollout.is_none()
        && args.required.is_none()
        && control.schedule.is_none()
        && control.halt_on_failure_rate.is_none()
        && control.min_reports.is_none()
    {
        return Err(Error::usage("nothing to change").hint(
            "pass --rollout, --schedule, --halt-on-failure-rate, --min-reports and/or --required",
        ));
    }
    let body = UpdateRelease {
        rollout_percent: args.rollout,
        required: args.required,
        schedule: control.schedule,
        halt_on_failure_rate: control.halt_on_failure_rate,
        min_reports: control.min_reports,
    };
    let product = super::product_of(ctx, args.product, &args.release).await?;
    let release = ctx
        .client()?
        .firmware()
        .update_release(&product, &args.release, &body)
        .await?;
    ctx.printer.show(&release)?;
    ctx.printer.status(&format!(
        "release {} now rolls out to {}%",
        release.id, release.rollout_percent
    ));
    Ok(())
}
