//! `fleet signing-key delete`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Delete a signing key; binaries signed only with it count as unsigned afterwards
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet signing-key delete old-ci --yes")]
pub struct DeleteArgs {
    /// Key name or ID
    pub key: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    crate::prompt::confirm(
        ctx,
        &format!("delete signing key `{}` and its signatures", args.key),
    )?;
    // Read before deleting so scripts get the deleted object (as `api-key revoke` gives the
    // revoked key); deleting by the ID read makes the object shown the one deleted.
    let firmware = ctx.client()?.firmware();
    let key = firmware.key(&args.key).await?;
    firmware.delete_key(key.id.as_str()).await?;
    ctx.printer
        .status(&format!("deleted signing key `{}` ({})", key.name, key.id));
    ctx.printer.show(&key)
}
