//! `fleet api-key show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;

/// Show one API key (never its secret)
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet api-key show ci\n  fleet api-key show fleet_AbCd1234")]
pub struct ShowArgs {
    /// Key ID, prefix (`fleet_` + 8 characters, to identify a leaked key) or name
    pub key: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let key = ctx.client()?.api_keys().get(&args.key).await?;
    ctx.printer.show(&key)
}
