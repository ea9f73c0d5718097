//! `fleet profile remove`.

use clap::Args;

use crate::config;
use crate::context::Context;
use crate::error::Result;

/// Remove a profile from config.toml and its API key from credentials.toml
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet profile remove staging")]
pub struct RemoveArgs {
    /// Profile name
    pub name: String,
}

pub fn run(ctx: &Context, args: RemoveArgs) -> Result<()> {
    let was_default = config::remove_profile(&ctx.config_dir, &args.name)?;
    ctx.printer
        .status(&format!("removed profile `{}`", args.name));
    if was_default {
        ctx.printer
            .hint("there is no default profile now; choose one with `fleet profile use NAME`");
    }
    Ok(())
}
