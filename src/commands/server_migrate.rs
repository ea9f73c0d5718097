//! `fleet server migrate`: move a deployment to another database (and its firmware blobs to
//! another store), then show the comparison of every table and blob.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{OutputFormat, Resource};
use crate::server::{BlobStore, Database, MigrateError, Migration, MigrationReport, Storage};

/// Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy
///
/// For a fleet that outgrows one machine: SQLite in a data directory to PostgreSQL (or to
/// another data directory). The target is migrated first and filled in one transaction, then
/// compared with the source: the row count and every value of each table, the size and
/// SHA-256 of each firmware blob. Any difference fails the command and commits nothing. The
/// target must not hold a deployment yet (see --replace). Stop the service first: what it
/// writes during the copy is not copied.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet server migrate --from sqlite:/var/lib/fleet --to postgres://db/fleet\n  \
    fleet server migrate --from sqlite:/var/lib/fleet --to postgres://db/fleet \\\n    \
    --to-data-dir /srv/fleet\n  \
    fleet server migrate --from sqlite:/var/lib/fleet --to postgres://db/fleet \\\n    \
    --blob-store s3://fw/prod\n  \
    fleet server migrate --from sqlite:/var/lib/fleet \\\n    \
    --to sqlite:/mnt/new-disk/fleet")]
pub struct MigrateArgs {
    /// The deployment to copy: `sqlite:DIR` (a data directory, or the fleet.db in it) or a
    /// postgres:// URL
    #[arg(long, value_name = "DATABASE")]
    pub from: String,

    /// Where to copy it: a postgres:// URL, or `sqlite:DIR` (a data directory, created when
    /// missing)
    #[arg(
        long,
        value_name = "DATABASE",
        env = "FLEET_DATABASE_URL",
        hide_env_values = true
    )]
    pub to: String,

    /// With a PostgreSQL --from: the data directory whose blobs/ holds its firmware
    /// [default: the platform data directory, e.g. ~/.local/share/fleet]
    #[arg(long, value_name = "DIR")]
    pub from_data_dir: Option<PathBuf>,

    /// With a PostgreSQL --to: the data directory the new deployment runs with; the firmware
    /// blobs are copied into its blobs/ [default: the source's data directory, whose blobs
    /// stay where they are]
    #[arg(long, value_name = "DIR")]
    pub to_data_dir: Option<PathBuf>,

    /// Where the target keeps firmware: with a PostgreSQL --to, `--blob-store s3://BUCKET[/PREFIX]`
    /// (and the `--s3-*` flags) copies the blobs into that bucket
    #[command(flatten)]
    pub to_blobs: super::server_blobs::BlobStoreArgs,

    /// Delete what the target database holds (a deployment started there by mistake) instead
    /// of refusing to copy into it
    #[arg(long)]
    pub replace: bool,
}

pub fn run(ctx: &Context, mut args: MigrateArgs) -> Result<()> {
    let from = source(&args)?;
    let to = target(&mut args, &from)?;
    if args.replace {
        crate::prompt::confirm(
            ctx,
            &format!(
                "delete everything in {} and replace it with the copy",
                to.describe_database()
            ),
        )?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    let migration = Migration {
        from: from.clone(),
        to: to.clone(),
        replace: args.replace,
    };
    let printer = ctx.printer.clone();
    let report = runtime
        .block_on(crate::server::migrate(migration, &move |step: &str| {
            printer.status(step)
        }))
        .map_err(|err| migrate_error(err, &from, &to))?;
    show(ctx, &report)?;
    if !report.problems.is_empty() {
        let mut error = Error::failure(format!(
            "the copy in {} differs from its source: {}",
            report.to.database,
            report.problems.join("; ")
        ));
        error = error.hint("nothing was committed to the target database; run the command again");
        if report.blobs.copied {
            error = error.hint(format!(
                "the blobs copied so far stay in {}; a new run overwrites them",
                report.to.blobs
            ));
        }
        return Err(error);
    }
    let rows: u64 = report.tables.iter().map(|t| t.target_rows).sum();
    ctx.printer.status(&format!(
        "copied {rows} rows in {} tables{} to {}; every table and blob matches its source",
        report.tables.len(),
        blob_summary(&report),
        report.to.database
    ));
    ctx.printer.hint(&start_hint(&to));
    Ok(())
}

/// `--from`: a data dir's SQLite database (with its blobs), or PostgreSQL.
fn source(args: &MigrateArgs) -> Result<Storage> {
    match parse_location(&args.from, "--from")? {
        Location::Sqlite(data_dir) => {
            if args.from_data_dir.is_some() {
                return Err(
                    Error::usage("--from-data-dir goes with a PostgreSQL --from")
                        .hint("`sqlite:DIR` is the data directory itself"),
                );
            }
            Ok(Storage::local(data_dir))
        }
        Location::Postgres(database) => Ok(Storage {
            database,
            ..Storage::local(super::server::data_dir_or_default(
                args.from_data_dir.clone(),
            )?)
        }),
    }
}

/// `--to`: a new data dir, or PostgreSQL with the blobs in `--to-data-dir` (or left in the
/// source's data dir).
fn target(args: &mut MigrateArgs, from: &Storage) -> Result<Storage> {
    let blob_store = std::mem::take(&mut args.to_blobs).blob_store()?;
    match parse_location(&args.to, "--to")? {
        Location::Sqlite(data_dir) => {
            if args.to_data_dir.is_some() {
                return Err(Error::usage("--to-data-dir goes with a PostgreSQL --to")
                    .hint("`sqlite:DIR` is the data directory itself"));
            }
            if blob_store != BlobStore::Local {
                return Err(Error::usage("--blob-store goes with a PostgreSQL --to")
                    .hint("a `sqlite:DIR` deployment keeps its firmware in DIR/blobs"));
            }
            Ok(Storage::local(data_dir))
        }
        Location::Postgres(database) => {
            let data_dir = args
                .to_data_dir
                .clone()
                .unwrap_or_else(|| from.data_dir.clone());
            Ok(Storage {
                database,
                blob_store,
                ..Storage::local(data_dir)
            })
        }
    }
}

enum Location {
    /// The data directory.
    Sqlite(PathBuf),
    Postgres(Database),
}

/// `sqlite:DIR`, `sqlite:DIR/fleet.db` or a PostgreSQL URL.
fn parse_location(text: &str, flag: &str) -> Result<Location> {
    let Some(path) = text
        .strip_prefix("sqlite://")
        .or_else(|| text.strip_prefix("sqlite:"))
    else {
        return super::server::database_from_url(text, flag)
            .map(Location::Postgres)
            .map_err(|err| {
                err.hint(format!(
                    "for a data directory's SQLite database: {flag} sqlite:DIR"
                ))
            });
    };
    if path.is_empty() {
        return Err(
            Error::usage(format!("{flag} sqlite: needs a data directory"))
                .hint(format!("e.g. {flag} sqlite:/var/lib/fleet")),
        );
    }
    let path = Path::new(path);
    if path.file_name() == Some(std::ffi::OsStr::new(crate::server::DB_FILE)) {
        return Ok(Location::Sqlite(
            path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        ));
    }
    if path.is_file() {
        return Err(
            Error::usage(format!("`{}` is not a data directory", path.display())).hint(format!(
                "name the data directory (it holds {} and blobs/): {flag} sqlite:DIR",
                crate::server::DB_FILE
            )),
        );
    }
    Ok(Location::Sqlite(path.to_path_buf()))
}

fn migrate_error(err: MigrateError, from: &Storage, to: &Storage) -> Error {
    let message = err.to_string();
    match err {
        MigrateError::SourceMissing(_) => Error::usage(message)
            .hint("--from sqlite:DIR names the data directory `fleet server --data-dir DIR` uses"),
        MigrateError::SameDatabase(_) => {
            Error::usage(message).hint("--from and --to must name two different databases")
        }
        MigrateError::Open { side, source, .. } => {
            let storage = if side == "source" { from } else { to };
            super::server::open_database_error(storage, source)
        }
        MigrateError::TargetNotEmpty { .. } => Error::new(ErrorKind::Rejected, message)
            .hint("migrate into a new, empty database, or pass --replace to delete what it holds"),
        MigrateError::Failed(source) => Error::failure(format!(
            "could not copy {} to {}",
            from.describe_database(),
            to.describe_database()
        ))
        .with_source(source)
        .hint("nothing was committed to the target database"),
    }
}

fn blob_summary(report: &MigrationReport) -> String {
    if report.blobs.copied {
        format!(
            " and {} ({} bytes)",
            crate::output::wording::count_of(report.blobs.objects, "blob", "blobs"),
            report.blobs.bytes
        )
    } else {
        String::new()
    }
}

/// How to run the service on what was just written.
fn start_hint(to: &Storage) -> String {
    match &to.database {
        Database::Sqlite => format!(
            "start the service on it: fleet server --data-dir {}",
            to.data_dir.display()
        ),
        Database::Postgres { .. } => format!(
            "start the service on it: fleet server --database-url {} --data-dir {}",
            to.describe_database(),
            to.data_dir.display()
        ),
    }
}

/// The comparison as a table (one row per table, then the blobs), or the whole report as
/// JSON.
fn show(ctx: &Context, report: &MigrationReport) -> Result<()> {
    match ctx.printer.format() {
        OutputFormat::Table | OutputFormat::Wide => {
            let mut list = ctx.printer.list::<Compared>();
            for table in &report.tables {
                list.push(&Compared {
                    item: table.table.clone(),
                    source: table.source_rows,
                    target: table.target_rows,
                    check: if table.content_matches {
                        "same content"
                    } else {
                        "DIFFERENT"
                    },
                })?;
            }
            list.push(&Compared {
                item: "firmware blobs".to_owned(),
                source: report.blobs.objects,
                target: report.blobs.verified,
                check: match (
                    report.blobs.copied,
                    report.blobs.objects == report.blobs.verified,
                ) {
                    (false, _) => "not copied (same store)",
                    (true, true) => "same size and SHA-256",
                    (true, false) => "DIFFERENT",
                },
            })?;
            list.finish().map(|_| ())
        }
        _ => ctx.printer.show(&ReportView(report)),
    }
}

/// One line of the summary table.
#[derive(serde::Serialize)]
struct Compared {
    item: String,
    source: u64,
    target: u64,
    check: &'static str,
}

impl Resource for Compared {
    fn id(&self) -> &str {
        &self.item
    }
    fn headers() -> &'static [&'static str] {
        &["TABLE", "SOURCE", "TARGET", "CHECK"]
    }
    fn row(&self) -> Vec<String> {
        vec![
            self.item.clone(),
            self.source.to_string(),
            self.target.to_string(),
            self.check.to_owned(),
        ]
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("table", self.item.clone()),
            ("check", self.check.to_owned()),
        ]
    }
}

/// The report as `-o json` prints it; `-o id` prints the target database.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct ReportView<'a>(&'a MigrationReport);

impl Resource for ReportView<'_> {
    fn id(&self) -> &str {
        &self.0.to.database
    }
    fn headers() -> &'static [&'static str] {
        &[]
    }
    fn row(&self) -> Vec<String> {
        Vec::new()
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}
