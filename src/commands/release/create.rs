//! `fleet release create`.

use clap::Args;

use crate::api::CreateRelease;
use crate::context::Context;
use crate::error::Result;

/// Release a bundle to a cohort. The bundle must be firmware of the cohort's own product.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet release create -P indoor-sensor --cohort beta \
    --bundle spring-2026 --rollout 10"
)]
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
    /// Share of the cohort's devices to roll out to
    #[arg(long, value_name = "PERCENT", default_value_t = 100,
        value_parser = clap::value_parser!(u8).range(0..=100))]
    pub rollout: u8,
    /// Devices must install it
    #[arg(long)]
    pub required: bool,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateRelease {
        cohort: args.cohort,
        bundle: args.bundle,
        rollout_percent: Some(args.rollout),
        required: Some(args.required),
        ..Default::default()
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
