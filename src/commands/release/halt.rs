//! `fleet release halt`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Halt a release: no device that has not started it is offered it (devices mid-update may
/// finish) and its schedule stops, until `fleet release resume`. Halting a halted release
/// changes nothing.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet release halt rel_0193…")]
pub struct HaltArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
}

pub async fn run(ctx: &Context, args: HaltArgs) -> Result<()> {
    let product = super::product_of(ctx, args.product, &args.release).await?;
    let release = ctx
        .client()?
        .firmware()
        .release_command(&product, &args.release, "halt")
        .await?;
    ctx.printer.show(&release)?;
    ctx.printer.status(&format!(
        "release {} is halted at {}%: no new device is offered it",
        release.id, release.rollout_percent
    ));
    Ok(())
}
