//! `fleet device delete`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Delete a device. Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet device delete sn-0042 --yes")]
pub struct DeleteArgs {
    /// Device identifier or ID
    pub device: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    prompt::confirm(ctx, &format!("delete device `{}`", args.device))?;
    ctx.client()?.devices().delete(&args.device).await?;
    ctx.printer
        .status(&format!("deleted device `{}`", args.device));
    Ok(())
}
