//! `fleet product delete`.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::output::wording;
use crate::prompt;

/// Delete a product and its cohorts. Refused while the product has devices (checked before
/// asking). Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet product delete product-prototype --yes")]
pub struct DeleteArgs {
    /// Product name or ID
    pub product: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    let products = ctx.client()?.products();
    // Refuse what the service would refuse before asking; the service still decides.
    let product = products.get(&args.product).await?;
    if product.device_count > 0 {
        return Err(Error::new(
            ErrorKind::Rejected,
            format!(
                "product `{}` still has {}; only a product without devices can be deleted",
                product.name,
                wording::devices(product.device_count)
            ),
        )
        .hint(format!(
            "move the devices to another product or delete them first (`fleet device list --product {}`), or archive the product instead",
            product.name
        )));
    }
    prompt::confirm(ctx, &format!("delete product `{}`", args.product))?;
    // Read before deleting so scripts get the deleted object (as `api-key revoke` gives the
    // revoked key); deleting by the ID read makes the object shown the one deleted.
    products.delete(product.id.as_str()).await?;
    ctx.printer.status(&format!(
        "deleted product `{}` ({})",
        product.name, product.id
    ));
    ctx.printer.show(&product)
}
