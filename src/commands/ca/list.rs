//! `fleet ca list`.

use clap::Args;

use crate::api::CaListQuery;
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List certificate authorities of one product, or of every product
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet ca list --product indoor-sensor\n  fleet ca list -o wide"
)]
pub struct ListArgs {
    /// Only certificate authorities of this product (name or ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = CaListQuery {
        product: args.product,
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.cas().list_up_to(query, paging.max());
    ctx.printer
        .print_stream(stream, paging, "certificate authorities")
        .await?;
    Ok(())
}
