//! `fleet signing-key list`.

use clap::Args;

use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List the organization's signing keys
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet signing-key list -o json")]
pub struct ListArgs {
    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.firmware().keys_up_to(paging.max());
    ctx.printer
        .print_stream(stream, paging, "signing keys")
        .await?;
    Ok(())
}
