//! `fleet profile add`.

use std::io::BufRead;

use clap::Args;

use crate::config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::ProfileView;
use crate::prompt;

/// Add a profile. Replacing one with the same name asks first on a terminal, and needs --force
/// otherwise. The API key is asked for without echo, or read from stdin with --api-key-stdin;
/// it is stored in credentials.toml (mode 0600).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet profile add prod --api-url https://fleet.example.com\n  echo \"$FLEET_PROD_KEY\" \\\n    | fleet profile add prod --api-url https://fleet.example.com --api-key-stdin"
)]
pub struct AddArgs {
    /// Profile name: letters, digits, `-`, `_`, `.`
    pub name: String,

    /// Base URL of the fleet service, e.g. http://127.0.0.1:4040
    #[arg(long, value_name = "URL")]
    pub api_url: String,

    /// Read the API key from the first line of stdin instead of prompting
    #[arg(long)]
    pub api_key_stdin: bool,

    /// Replace the profile if it exists, without asking
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, args: AddArgs) -> Result<()> {
    config::validate_profile_name(&args.name)?;
    let url_ok = reqwest::Url::parse(&args.api_url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !url_ok {
        return Err(
            Error::usage(format!("`{}` is not a valid API URL", args.api_url))
                .hint("use the form http://HOST:PORT, e.g. http://127.0.0.1:4040"),
        );
    }
    if !args.force {
        confirm_replace(ctx, &args.name)?;
    }
    let key = if args.api_key_stdin {
        read_key_line()?
    } else if prompt::can_prompt(ctx) {
        prompt::password(ctx, "API key")?.trim().to_owned()
    } else {
        return Err(Error::usage("the API key is needed and there is no terminal to ask")
            .hint("pipe it in with --api-key-stdin, e.g. `echo \"$KEY\" | fleet profile add NAME --api-url URL --api-key-stdin`"));
    };
    if key.is_empty() {
        return Err(Error::usage("the API key is empty"));
    }
    let saved = config::save_profile(&ctx.config_dir, &args.name, &args.api_url, &key)?;
    ctx.printer.show(&ProfileView {
        name: args.name.clone(),
        api_url: Some(args.api_url),
        has_api_key: true,
        default: saved.is_default,
    })?;
    ctx.printer.status(&format!(
        "saved profile `{}` in `{}`",
        args.name,
        saved.config_path.display()
    ));
    if saved.became_default {
        ctx.printer
            .status(&format!("profile `{}` is now the default", args.name));
    } else if saved.is_default {
        ctx.printer
            .status(&format!("profile `{}` is still the default", args.name));
    }
    Ok(())
}

/// An existing profile is replaced only when the user says so: asked on a terminal, `--force`
/// (or `--yes`) otherwise. Asked before the key, so a "no" costs nothing.
fn confirm_replace(ctx: &Context, name: &str) -> Result<()> {
    let (profiles, _) = config::list_profiles(&ctx.config_dir)?;
    let Some(existing) = profiles.iter().find(|p| p.name == name) else {
        return Ok(());
    };
    let url = existing.api_url.as_deref().unwrap_or("no URL");
    if ctx.options.yes || prompt::can_prompt(ctx) {
        return prompt::confirm(ctx, &format!("replace profile `{name}` ({url})"));
    }
    Err(
        Error::cancelled(format!("profile `{name}` already exists ({url})"))
            .hint("pass --force to replace it, or choose another name"),
    )
}

fn read_key_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| Error::failure("could not read the API key from stdin").with_source(err))?;
    Ok(line.trim().to_owned())
}
