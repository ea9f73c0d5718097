//! `fleet release show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show a release
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet release show rel_0193… -P indoor-sensor")]
pub struct ShowArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let release = ctx
        .client()?
        .firmware()
        .release(&args.product, &args.release)
        .await?;
    ctx.printer.show(&release)
}
