//! `fleet event list`.

use std::time::Duration;

use clap::Args;

use crate::api::EventListQuery;
use crate::commands::PageArgs;
use crate::commands::api_key::parse_duration;
use crate::context::Context;
use crate::error::{Error, Result};

/// List audit events, oldest first: every write and every refused request, with the key that
/// made it
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet event list --since 1h\n  \
    fleet event list --product indoor-sensor --action 'device.*' --all -o ndjson\n  \
    fleet event list --action auth.denied --since 24h")]
pub struct ListArgs {
    /// Only events of this product (name or ID)
    #[arg(long)]
    pub product: Option<String>,

    /// Only events about this resource (its ID)
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,

    /// Only events of this action, e.g. `product.created`, or a prefix such as `device.*`
    #[arg(long)]
    pub action: Option<String>,

    /// Only events by this API key (ID or name)
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// Only events in the last DURATION, e.g. 1h, 7d
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<Duration>,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let since = args
        .since
        .map(|d| {
            chrono::TimeDelta::from_std(d)
                .ok()
                .and_then(|d| chrono::Utc::now().checked_sub_signed(d))
                .ok_or_else(|| Error::usage("--since is too long"))
        })
        .transpose()?;
    let query = EventListQuery {
        product: args.product,
        resource: args.resource,
        key: args.key,
        action: args.action,
        since,
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.events().list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "events").await?;
    Ok(())
}
