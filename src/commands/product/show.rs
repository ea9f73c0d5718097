//! `fleet product show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show one product
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet product show indoor-sensor -o json")]
pub struct ShowArgs {
    /// Product name or ID
    pub product: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let product = ctx.client()?.products().get(&args.product).await?;
    ctx.printer.show(&product)
}
