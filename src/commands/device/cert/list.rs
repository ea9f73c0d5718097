//! `fleet device cert list`.

use clap::Args;

use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List a device's certificates, oldest first, revoked ones included
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet device cert list sn-0042\n  fleet device cert list sn-0042 -o wide"
)]
pub struct ListArgs {
    /// Device identifier or ID
    pub device: String,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx
        .client()?
        .device_certs()
        .list_up_to(&args.device, paging.max());
    ctx.printer
        .print_stream(stream, paging, "certificates")
        .await?;
    Ok(())
}
