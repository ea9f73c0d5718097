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
    // Read before deleting so scripts get the deleted object (as `api-key revoke` gives the
    // revoked key); deleting by the ID read makes the object shown the one deleted.
    let products = ctx.client()?.products();
    let product = products.get(&args.product).await?;
    products.delete(product.id.as_str()).await?;
    ctx.printer.status(&format!(
        "deleted product `{}` ({})",
        product.name, product.id
    ));
    ctx.printer.show(&product)
}
