//! `fleet cohort list`.

use clap::Args;

use crate::api::CohortListQuery;
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List cohorts of one product, or of every product
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet cohort list --product indoor-sensor\n  fleet cohort list -o ndjson"
)]
pub struct ListArgs {
    /// Only cohorts of this product (name or ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = CohortListQuery {
        product: args.product,
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.cohorts().list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "cohorts").await?;
    Ok(())
}
