//! `fleet release resume`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Resume a halted release: offered again at its rollout percentage. Its guard counts afresh
/// from now and the next step's wait starts over. Resuming a release that is not halted
/// changes nothing.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet release resume rel_0193…")]
pub struct ResumeArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
}

pub async fn run(ctx: &Context, args: ResumeArgs) -> Result<()> {
    let product = super::product_of(ctx, args.product, &args.release).await?;
    let release = ctx
        .client()?
        .firmware()
        .release_command(&product, &args.release, "resume")
        .await?;
    ctx.printer.show(&release)?;
    ctx.printer.status(&format!(
        "release {} is {} at {}%",
        release.id, release.state, release.rollout_percent
    ));
    Ok(())
}
