//! `fleet bundle list`.

use clap::Args;

use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List a product's bundles, oldest first
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet bundle list -P indoor-sensor")]
pub struct ListArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx
        .client()?
        .firmware()
        .bundles_up_to(&args.product, paging.max());
    ctx.printer.print_stream(stream, paging, "bundles").await?;
    Ok(())
}
