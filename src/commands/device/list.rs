//! `fleet device list`.

use clap::Args;

use crate::api::{DeviceListQuery, DeviceSort};
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;
use crate::output::OutputFormat;

/// List devices in creation order, or by last check-in with `--sort last-seen`. `--all` streams every page, so it suits very large fleets.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet device list --product indoor-sensor --cohort beta\n  fleet device list --all --tag site:berlin -o ndjson | jq -r .identifier\n  fleet device list --offline --running app@1.4.0\n  fleet device list --update-state failed --seen-within 1h\n  fleet device list --sort last-seen --offline"
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

    /// Only devices that checked in within twice the check-in interval (10 minutes by default)
    #[arg(long, conflicts_with = "offline")]
    pub online: bool,

    /// Only devices that did not check in within twice the check-in interval, or never did
    #[arg(long)]
    pub offline: bool,

    /// Only devices that checked in within this long, e.g. 30m, 1h, 2d
    #[arg(long, value_name = "DURATION", value_parser = crate::commands::api_key::parse_duration)]
    pub seen_within: Option<std::time::Duration>,

    /// Only devices running this artifact at this version, e.g. app@1.4.0
    #[arg(long, value_name = "ARTIFACT@VERSION")]
    pub running: Option<String>,

    /// Only devices whose latest update state is this
    #[arg(long, value_name = "STATE", value_parser = ["downloading", "installing", "succeeded", "failed", "rolled_back"])]
    pub update_state: Option<String>,

    /// The order: `id` (creation order) or `last-seen` (newest check-in first, devices never
    /// seen last)
    #[arg(long, value_name = "ORDER", default_value = "id", value_parser = ["id", "last-seen"])]
    pub sort: String,

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
        online: if args.online {
            Some(true)
        } else {
            args.offline.then_some(false)
        },
        seen_within_s: args.seen_within.map(|d| d.as_secs().max(1)),
        running: args.running,
        update_state: args.update_state,
        sort: (args.sort == "last-seen").then_some(DeviceSort::LastSeen),
        ..Default::default()
    };
    let format = ctx.printer.format();
    let paging = args.page.paging(format);
    let devices = ctx.client()?.devices();
    // The whole list as JSON: printed from the service's text, never decoded.
    if paging.max().is_none() && matches!(format, OutputFormat::Json | OutputFormat::Ndjson) {
        ctx.printer
            .print_raw_stream(devices.list_all_json(query))
            .await?;
        return Ok(());
    }
    let stream = devices.list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "devices").await?;
    Ok(())
}
