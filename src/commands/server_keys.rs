//! `fleet server api-key create`: offline recovery of an API key, straight in the database.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::api::Role;
use crate::context::Context;
use crate::error::{Error, Result};

/// What `fleet server` can do besides serving.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Manage API keys directly in the database, without a running service
    #[command(subcommand)]
    ApiKey(OfflineKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum OfflineKeyCommand {
    /// Create an org-wide API key in the database (recovery when every admin key is lost)
    Create(OfflineCreateArgs),
}

/// Create an org-wide API key directly in the database under DIR, for when every admin key is
/// lost. Needs file access to the data directory, not a running service (a running one sees
/// the key at once). The secret is printed once on stdout.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    fleet server api-key create --data-dir /var/lib/fleet --role admin --name recovery")]
pub struct OfflineCreateArgs {
    /// The service's data directory (holding fleet.db) [default: the same as `fleet server`'s,
    /// the platform data directory, e.g. ~/.local/share/fleet]
    #[arg(long, env = "FLEET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The key's role: `read`, `write` or `admin`
    #[arg(long, value_parser = parse_role)]
    pub role: Role,

    /// A name for the key
    #[arg(long, default_value = "recovery")]
    pub name: String,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}` is not a role: use read, write or admin"))
}

pub fn run(ctx: &Context, command: ServerCommand) -> Result<()> {
    let ServerCommand::ApiKey(OfflineKeyCommand::Create(args)) = command;
    let data_dir = super::server::data_dir_or_default(args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    let key = runtime
        .block_on(crate::server::create_key_offline(
            &data_dir, &args.name, args.role,
        ))
        .map_err(|err| {
            Error::failure(format!(
                "could not create an API key in `{}`",
                data_dir.display()
            ))
            .with_source(err)
        })?;
    ctx.printer.status(&format!(
        "created API key `{}` ({}, role {}) in `{}`",
        args.name,
        key.id,
        args.role,
        data_dir.display()
    ));
    ctx.printer
        .warn("the secret is shown only this once: store it now (e.g. `fleet profile add NAME --api-url URL --api-key-stdin`)");
    ctx.printer.raw(format!("{}\n", key.secret).as_bytes())
}
