//! `fleet product list`.

use clap::Args;

use crate::api::{ProductListQuery, ProductState};
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List products, in creation order (active ones unless told otherwise)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet product list\n  fleet product list --all-states --tag line:consumer -o json | jq '.[].name'"
)]
pub struct ListArgs {
    /// Only archived products
    #[arg(long, conflicts_with = "all_states")]
    pub archived: bool,

    /// Active and archived products
    #[arg(long)]
    pub all_states: bool,

    /// Only products with this `key:value` tag (repeatable; all must match)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let state = if args.archived {
        ProductState::Archived
    } else if args.all_states {
        ProductState::All
    } else {
        ProductState::Active
    };
    let query = ProductListQuery {
        state: Some(state),
        tag: args.tags,
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.products().list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "products").await?;
    Ok(())
}
