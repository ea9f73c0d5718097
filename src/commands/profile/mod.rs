//! `fleet profile …`: connection profiles (service URL + API key) in the local config
//! directory. These commands never talk to the service.

mod add;
mod list;
mod remove;
mod show;
mod use_profile;

use clap::Subcommand;

use crate::config::Profile;
use crate::context::Context;
use crate::error::Result;
use crate::output::ProfileView;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add or replace a profile
    Add(add::AddArgs),
    /// List profiles; `*` marks the default
    List(list::ListArgs),
    /// Show a profile (never its API key)
    Show(show::ShowArgs),
    /// Make a profile the default
    Use(use_profile::UseArgs),
    /// Remove a profile and its stored API key
    Remove(remove::RemoveArgs),
}

pub fn run(ctx: &Context, command: ProfileCommand) -> Result<()> {
    match command {
        ProfileCommand::Add(args) => add::run(ctx, args),
        ProfileCommand::List(args) => list::run(ctx, args),
        ProfileCommand::Show(args) => show::run(ctx, args),
        ProfileCommand::Use(args) => use_profile::run(ctx, args),
        ProfileCommand::Remove(args) => remove::run(ctx, args),
    }
}

/// How a profile from the config files is printed.
fn view(profile: Profile) -> ProfileView {
    ProfileView {
        name: profile.name,
        api_url: profile.api_url,
        has_api_key: profile.has_api_key,
        default: profile.default,
    }
}
