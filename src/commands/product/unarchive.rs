//! `fleet product unarchive`.

use clap::Args;

use crate::api::UpdateProduct;
use crate::context::Context;
use crate::error::Result;

/// Make an archived product active again
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet product unarchive product-prototype")]
pub struct UnarchiveArgs {
    /// Product name or ID
    pub product: String,
}

pub async fn run(ctx: &Context, args: UnarchiveArgs) -> Result<()> {
    let body = UpdateProduct {
        archived: Some(false),
        ..Default::default()
    };
    let product = ctx
        .client()?
        .products()
        .update(&args.product, &body)
        .await?;
    ctx.printer.show(&product)?;
    ctx.printer.status(&format!(
        "unarchived product `{}` ({})",
        product.name, product.id
    ));
    Ok(())
}
