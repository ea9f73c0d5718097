//! `fleet device list`.

use clap::Args;

use crate::api::DeviceListQuery;
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List devices in creation order. `--all` streams every page, so it suits very large fleets.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet device list --product indoor-sensor --cohort beta\n  fleet device list --all --tag site:berlin -o ndjson | jq -r .identifier"
)]
pub struct ListArgs {
    /// Only devices of this product (name or ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,

    /// Only devices in this cohort (ID, or name together with --product)
    #[arg(long, short = 'c')]
    pub cohort: Option<String>,

    /// Only devices with this `key:value` tag (repeatable; all must match)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    /// Only devices with this hardware target
    #[arg(long)]
    pub target: Option<String>,

    /// Only quarantined devices
    #[arg(long)]
    pub quarantined: bool,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = DeviceListQuery {
        product: args.product,
        cohort: args.cohort,
        tag: args.tags,
        target: args.target,
        quarantined: args.quarantined.then_some(true),
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.devices().list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "devices").await?;
    Ok(())
}
