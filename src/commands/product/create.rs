//! `fleet product create`.

use clap::Args;

use crate::api::CreateProduct;
use crate::commands::if_not_exists::{self, Field};
use crate::context::Context;
use crate::error::Result;

/// Create a product: a device type of your organization
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet product create indoor-sensor \\\n    --description \"Indoor air sensor\" --tag line:consumer"
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

    /// If the product exists with the same description and tags (a flag not given means
    /// empty), print it and exit 0; if they differ, exit 7 naming the fields
    #[arg(long)]
    pub if_not_exists: bool,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateProduct {
        name: args.name,
        description: args.description,
        tags: args.tags,
    };
    let products = ctx.client()?.products();
    let product = match products.create(&body).await {
        Ok(product) => product,
        Err(err) if args.if_not_exists && if_not_exists::is_conflict(&err) => {
            let product = if_not_exists::existing(err, products.get(&body.name)).await?;
            if_not_exists::check(
                &format!("product `{}`", product.name),
                &format!("fleet product show {}", product.name),
                vec![
                    Field::text(
                        "description",
                        &product.description,
                        body.description.as_deref(),
                    ),
                    Field::tags(&product.tags, &body.tags),
                ],
            )?;
            ctx.printer.show(&product)?;
            ctx.printer.status(&format!(
                "product `{}` already exists ({}); nothing changed",
                product.name, product.id
            ));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    ctx.printer.show(&product)?;
    ctx.printer.status(&format!(
        "created product `{}` ({})",
        product.name, product.id
    ));
    Ok(())
}
