//! `fleet product delete`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Delete a product and its cohorts. The service refuses while the product has devices.
/// Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet product delete product-prototype --yes")]
pub struct DeleteArgs {
    /// Product name or ID
    pub product: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    prompt::confirm(ctx, &format!("delete product `{}`", args.product))?;
    ctx.client()?.products().delete(&args.product).await?;
    ctx.printer
        .status(&format!("deleted product `{}`", args.product));
    Ok(())
}
