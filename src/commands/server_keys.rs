//! `fleet server`'s subcommands, and `fleet server api-key create`: offline recovery of an API
//! key, straight in the database.

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
    Migrate(super::server_migrate::MigrateArgs),
}

#[derive(Debug, Subcommand)]
pub enum OfflineKeyCommand {
    /// Create an org-wide API key in the database (recovery when every admin key is lost)
    Create(OfflineCreateArgs),
}

/// Create an org-wide API key directly in the database under DIR (or the PostgreSQL database of
/// --database-url), for when every admin key is lost. Needs access to the database, not a
/// running service (a running one sees the key at once). The secret is printed once on stdout.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet server api-key create --data-dir /var/lib/fleet --role admin \\\n    \
    --name recovery\n  \
    fleet server api-key create --role admin \\\n    \
    --database-url postgres://fleet@db.internal/fleet")]
pub struct OfflineCreateArgs {
    /// The service's data directory (holding fleet.db) [default: the same as `fleet server`'s,
    /// the platform data directory, e.g. ~/.local/share/fleet]
    #[arg(long, env = "FLEET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(flatten)]
    pub database: super::server::DatabaseFlag,

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
    match command {
        ServerCommand::ApiKey(OfflineKeyCommand::Create(args)) => create_key(ctx, args),
        ServerCommand::Migrate(args) => super::server_migrate::run(ctx, args),
    }
}

fn create_key(ctx: &Context, args: OfflineCreateArgs) -> Result<()> {
    let data_dir = super::server::data_dir_or_default(args.data_dir)?;
    let storage = crate::server::Storage {
        database: args.database.database()?,
        ..crate::server::Storage::local(&data_dir)
    };
    let place = match storage.database {
        crate::server::Database::Sqlite => format!("`{}`", data_dir.display()),
        crate::server::Database::Postgres { .. } => storage.describe_database(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    let key = runtime
        .block_on(crate::server::create_key_offline(
            storage.clone(),
            &args.name,
            args.role,
        ))
        .map_err(|err| {
            // Reaching PostgreSQL failed (unreachable, refused, misconfigured): say which.
            let connecting = storage.database != crate::server::Database::Sqlite
                && crate::server::open_failure(&err) != crate::server::OpenFailure::Other;
            if connecting {
                super::server::open_database_error(&storage, err)
            } else {
                Error::failure(format!("could not create an API key in {place}")).with_source(err)
            }
        })?;
    ctx.printer.status(&format!(
        "created API key `{}` ({}, role {}) in {place}",
        args.name, key.id, args.role,
    ));
    ctx.printer
        .warn("the secret is shown only this once: store it now (e.g. `fleet profile add NAME --api-url URL --api-key-stdin`)");
    ctx.printer.raw(format!("{}\n", key.secret).as_bytes())
}
