//! `fleet product update`.

use clap::Args;

use crate::api::UpdateProduct;
use crate::context::Context;
use crate::error::{Error, Result};

/// Change a product's name, description or tags
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet product update indoor-sensor --description \"Indoor air sensor, rev B\"\n  fleet product update indoor-sensor --tag line:consumer --tag site:berlin"
)]
pub struct UpdateArgs {
    /// Product name or ID
    pub product: String,

    /// New name
    #[arg(long)]
    pub name: Option<String>,

    /// New description
    #[arg(long, short = 'd')]
    pub description: Option<String>,

    /// Replace all tags with these `key:value` tags (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    /// Remove all tags
    #[arg(long, conflicts_with = "tags")]
    pub clear_tags: bool,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    let tags = if args.clear_tags {
        Some(Vec::new())
    } else {
        (!args.tags.is_empty()).then_some(args.tags)
    };
    let body = UpdateProduct {
        name: args.name,
        description: args.description,
        tags,
        archived: None,
    };
    if body.name.is_none() && body.description.is_none() && body.tags.is_none() {
        return Err(Error::usage("nothing to update")
            .hint("pass --name, --description, --tag or --clear-tags"));
    }
    let product = ctx
        .client()?
        .products()
        .update(&args.product, &body)
        .await?;
    ctx.printer.show(&product)?;
    ctx.printer.status(&format!(
        "updated product `{}` ({})",
        product.name, product.id
    ));
    Ok(())
}
