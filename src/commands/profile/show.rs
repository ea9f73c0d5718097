//! `fleet profile show`.

use clap::Args;

use super::view;
use crate::config;
use crate::context::Context;
use crate::error::{Error, Result};

/// Show a profile: its URL, whether an API key is stored (never the key), and whether it is
/// the default
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet profile show\n  fleet profile show prod -o json")]
pub struct ShowArgs {
    /// Profile name (default: the selected or default profile)
    pub name: Option<String>,
}

pub fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let (profiles, warning) = config::list_profiles(&ctx.config_dir)?;
    if let Some(warning) = warning {
        ctx.printer.warn(&warning);
    }
    let wanted = args
        .name
        .or_else(|| ctx.options.profile.clone())
        .or_else(|| profiles.iter().find(|p| p.default).map(|p| p.name.clone()));
    let Some(wanted) = wanted else {
        return Err(
            Error::usage("no profile is selected and there is no default profile")
                .hint("name one: `fleet profile show NAME`, or see `fleet profile list`"),
        );
    };
    let Some(profile) = profiles.iter().find(|p| p.name == wanted) else {
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        let hint = if names.is_empty() {
            "there are no profiles yet: `fleet server` creates profile `local`, or run `fleet profile add NAME --api-url URL`".to_owned()
        } else {
            format!("existing profiles: {}", names.join(", "))
        };
        return Err(Error::usage(format!("profile `{wanted}` does not exist")).hint(hint));
    };
    ctx.printer.show(&view(profile.clone()))
}
