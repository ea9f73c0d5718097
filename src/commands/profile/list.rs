//! `fleet profile list`.

use clap::Args;

use super::view;
use crate::config;
use crate::context::Context;
use crate::error::Result;
use crate::output::ProfileView;

/// List profiles; the default one is marked with `*`
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet profile list -o json")]
pub struct ListArgs {}

pub fn run(ctx: &Context, _args: ListArgs) -> Result<()> {
    let (profiles, warning) = config::list_profiles(&ctx.config_dir)?;
    if let Some(warning) = warning {
        ctx.printer.warn(&warning);
    }
    let mut writer = ctx.printer.list::<ProfileView>();
    for profile in profiles {
        writer.push(&view(profile))?;
    }
    let count = writer.finish()?;
    if count == 0 && ctx.printer.format().is_table() {
        ctx.printer.status("no profiles");
        ctx.printer.hint(
            "`fleet server` creates profile `local`, or run `fleet profile add NAME --api-url URL`",
        );
    }
    Ok(())
}
