//! `fleet ca show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show one certificate authority: subject, fingerprint, validity, product and JITP settings
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet ca show factory-2026 --product indoor-sensor")]
pub struct ShowArgs {
    /// Certificate authority name or ID
    pub ca: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let ca = ctx.client()?.cas().get(&args.product, &args.ca).await?;
    ctx.printer.show(&ca)
}
