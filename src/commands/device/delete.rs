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
    // Read before deleting so scripts get the deleted object (as `api-key revoke` gives the
    // revoked key); deleting by the ID read makes the object shown the one deleted.
    let devices = ctx.client()?.devices();
    let device = devices.get(&args.device).await?;
    devices.delete(device.id.as_str()).await?;
    ctx.printer.status(&format!(
        "deleted device `{}` ({})",
        device.identifier, device.id
    ));
    ctx.printer.show(&device)
}
