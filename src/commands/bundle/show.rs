//! `fleet bundle show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show a bundle and its binaries
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet bundle show spring-2026 -P indoor-sensor")]
pub struct ShowArgs {
    /// Bundle name or ID
    pub bundle: String,
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let bundle = ctx
        .client()?
        .firmware()
        .bundle(&args.product, &args.bundle)
        .await?;
    ctx.printer.show(&bundle)
}
