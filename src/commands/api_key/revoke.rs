//! `fleet api-key revoke`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Revoke an API key: every request with it fails from the next one on. Revoking a revoked key
/// is not an error. Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet api-key revoke ci --yes")]
pub struct RevokeArgs {
    /// Key ID, prefix or name
    pub key: String,
}

pub async fn run(ctx: &Context, args: RevokeArgs) -> Result<()> {
    prompt::confirm(ctx, &format!("revoke API key `{}`", args.key))?;
    let key = ctx.client()?.api_keys().revoke(&args.key).await?;
    ctx.printer
        .status(&format!("revoked API key `{}` ({})", key.name, key.id));
    ctx.printer.show(&key)
}
