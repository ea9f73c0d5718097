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
    ctx.client()?.firmware().delete_key(&args.key).await?;
    ctx.printer
        .status(&format!("deleted signing key `{}`", args.key));
    Ok(())
}
