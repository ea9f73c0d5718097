//! `fleet profile use`.

use clap::Args;

use crate::config;
use crate::context::Context;
use crate::error::Result;

/// Make a profile the default for commands that name none
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet profile use prod")]
pub struct UseArgs {
    /// Profile name
    pub name: String,
}

pub fn run(ctx: &Context, args: UseArgs) -> Result<()> {
    config::set_default_profile(&ctx.config_dir, &args.name)?;
    ctx.printer
        .status(&format!("profile `{}` is now the default", args.name));
    Ok(())
}
