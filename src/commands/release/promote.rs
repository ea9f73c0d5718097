//! `fleet release promote`.

use clap::Args;

use crate::api::{PromoteRelease, parse_percent};
use crate::context::Context;
use crate::error::Result;

/// Move a release's rollout up now: to its schedule's next step, or with --to to a percentage
/// above the current one (the schedule then continues from its first step above it, after
/// that step's wait). A halted release must be resumed first.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet release promote rel_0193…\n  \
    fleet release promote rel_0193… --to 50%")]
pub struct PromoteArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
    /// Go to this percentage instead of the next step
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub to: Option<u8>,
}

pub async fn run(ctx: &Context, args: PromoteArgs) -> Result<()> {
    let product = super::product_of(ctx, args.product, &args.release).await?;
    let body = PromoteRelease {
        to_percent: args.to,
    };
    let release = ctx
        .client()?
        .firmware()
        .promote_release(&product, &args.release, &body)
        .await?;
    ctx.printer.show(&release)?;
    ctx.printer.status(&format!(
        "release {} now rolls out to {}%",
        release.id, release.rollout_percent
    ));
    Ok(())
}
