//! `fleet firmware list`.

use clap::Args;

use crate::api::{BinaryListQuery, BinaryState};
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List binaries, newest last
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  fleet firmware list --product indoor-sensor\n  \
    fleet firmware list -P indoor-sensor --artifact app -o json"
)]
pub struct ListArgs {
    /// Only binaries of this product (name or ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
    /// Only this artifact (name with --product, or ID)
    #[arg(long, short = 'a')]
    pub artifact: Option<String>,
    /// Only this version
    #[arg(id = "artifact_version", long = "version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Only this target
    #[arg(long, short = 't')]
    pub target: Option<String>,
    /// Only ready binaries (not unfinished uploads)
    #[arg(long)]
    pub ready: bool,
    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = BinaryListQuery {
        product: args.product,
        artifact: args.artifact,
        version: args.version,
        target: args.target,
        state: args.ready.then_some(BinaryState::Ready),
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.firmware().binaries_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "binaries").await?;
    Ok(())
}
