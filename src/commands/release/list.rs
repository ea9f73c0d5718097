//! `fleet release list`.

use clap::Args;

use crate::api::ReleaseListQuery;
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List a product's releases, oldest first; the last one of a cohort is its current release
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet release list -P indoor-sensor --cohort beta")]
pub struct ListArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    /// Only this cohort's releases (name or ID)
    #[arg(long, short = 'c')]
    pub cohort: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = ReleaseListQuery {
        cohort: args.cohort,
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx
        .client()?
        .firmware()
        .releases_up_to(&args.product, query, paging.max());
    ctx.printer.print_stream(stream, paging, "releases").await?;
    Ok(())
}
