//! `fleet cohort show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show one cohort
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet cohort show beta --product indoor-sensor")]
pub struct ShowArgs {
    /// Cohort name or ID
    pub cohort: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let cohort = ctx
        .client()?
        .cohorts()
        .get(&args.product, &args.cohort)
        .await?;
    ctx.printer.show(&cohort)
}
