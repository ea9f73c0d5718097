//! `fleet device show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show one device
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet device show sn-0042 -o json")]
pub struct ShowArgs {
    /// Device identifier or ID
    pub device: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let device = ctx.client()?.devices().get(&args.device).await?;
    ctx.printer.show(&device)
}
