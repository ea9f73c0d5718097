//! `fleet product archive`.

use clap::Args;

use crate::api::UpdateProduct;
use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Archive a product: it keeps its data and stays readable, but accepts no new devices or
/// cohorts. Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet product archive product-prototype --yes")]
pub struct ArchiveArgs {
    /// Product name or ID
    pub product: String,
}

pub async fn run(ctx: &Context, args: ArchiveArgs) -> Result<()> {
    prompt::confirm(ctx, &format!("archive product `{}`", args.product))?;
    let body = UpdateProduct {
        archived: Some(true),
        ..Default::default()
    };
    let product = ctx
        .client()?
        .products()
        .update(&args.product, &body)
        .await?;
    ctx.printer.show(&product)?;
    ctx.printer.status(&format!(
        "archived product `{}` ({})",
        product.name, product.id
    ));
    Ok(())
}
