//! `fleet release update`.

use clap::Args;

use crate::api::UpdateRelease;
use crate::context::Context;
use crate::error::{Error, Result};

/// Change a release's rollout percentage or whether devices must install it
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet release update rel_0193… --rollout 50\n  \
    fleet release update rel_0193… --rollout 0   # halt"
)]
pub struct UpdateArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
    /// New rollout percentage
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub rollout: Option<u8>,
    /// Whether devices must install it
    #[arg(long, value_name = "BOOL")]
    pub required: Option<bool>,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    if args.rollout.is_none() && args.required.is_none() {
        return Err(Error::usage("nothing to change").hint("pass --rollout and/or --required"));
    }
    let body = UpdateRelease {
        rollout_percent: args.rollout,
        required: args.required,
        ..Default::default()
    };
    let product = match args.product {
        Some(product) => product,
        None => {
            let release = super::show::find(ctx, None, &args.release).await?;
            release.product_id.as_str().to_owned()
        }
    };
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
