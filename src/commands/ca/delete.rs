//! `fleet ca delete`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Delete a certificate authority: its devices' certificates stay registered but no longer
/// chain to a registered CA. Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet ca delete factory-2026 --product indoor-sensor --yes")]
pub struct DeleteArgs {
    /// Certificate authority name or ID
    pub ca: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    prompt::confirm(
        ctx,
        &format!(
            "delete certificate authority `{}` of product `{}`",
            args.ca, args.product
        ),
    )?;
    // Read first so the output is the object deleted, addressed by the ID read.
    let cas = ctx.client()?.cas();
    let ca = cas.get(&args.product, &args.ca).await?;
    cas.delete(ca.product_id.as_str(), ca.id.as_str()).await?;
    ctx.printer.status(&format!(
        "deleted certificate authority `{}` of product `{}` ({})",
        ca.name, ca.product, ca.id
    ));
    ctx.printer.show(&ca)
}
