//! `fleet product create`.

use clap::Args;

use crate::api::CreateProduct;
use crate::context::Context;
use crate::error::Result;

/// Create a product: a device type of your organization
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet product create indoor-sensor --description \"Indoor air sensor\" --tag line:consumer"
)]
pub struct CreateArgs {
    /// Name, unique in the organization: lowercase letters, digits, `-`, `_`, `.`
    pub name: String,

    /// What the product is, for people
    #[arg(long, short = 'd')]
    pub description: Option<String>,

    /// A `key:value` tag (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateProduct {
        name: args.name,
        description: args.description,
        tags: args.tags,
    };
    let product = ctx.client()?.products().create(&body).await?;
    ctx.printer.show(&product)?;
    ctx.printer.status(&format!(
        "created product `{}` ({})",
        product.name, product.id
    ));
    Ok(())
}
