//! `fleet server migrate`: moving a deployment to another database and blob store (SQLite and
//! a data dir to PostgreSQL and a bucket, as a fleet outgrows one machine) and proving the copy
//! equal: every table's row count and content, every blob's size and SHA-256.
//!
//! The target database is migrated first, then filled in one transaction: a failure or a
//! difference found before the commit leaves it as it was. Blobs are copied before the rows,
//! so a committed database never points at a blob its store lacks.

mod blobs;

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use super::storage::{BlobStore, Storage};
use super::store::{self, copy};

pub use blobs::BlobReport;

/// What to move where.
pub struct Migration {
    pub from: Storage,
    pub to: Storage,
    /// Delete what the target database holds instead of refusing to touch it.
    pub replace: bool,
}

/// What a migration did, with the comparison of every table and the blobs.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationReport {
    pub from: Place,
    pub to: Place,
    /// Parents before children, in the order they were copied.
    pub tables: Vec<TableReport>,
    pub blobs: BlobReport,
    /// Every difference between source and copy; when there is any, nothing was committed.
    pub problems: Vec<String>,
}

/// A deployment's database and blob store, as messages name them (no passwords).
#[derive(Clone, Debug, Serialize)]
pub struct Place {
    pub database: String,
    pub blobs: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TableReport {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Every value read back from the target equals the source's (order aside).
    pub content_matches: bool,
}

/// Why a migration did not start, or stopped before comparing anything.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("there is no fleet database at `{0}`")]
    SourceMissing(String),
    #[error("the source and the target are the same database (`{0}`)")]
    SameDatabase(String),
    #[error("could not open the {side} database `{database}`")]
    Open {
        side: &'static str,
        database: String,
        #[source]
        source: anyhow::Error,
    },
    /// Rows per non-empty table.
    #[error("the target database `{database}` already holds a fleet deployment ({})", describe_rows(.tables))]
    TargetNotEmpty {
        database: String,
        tables: Vec<(String, u64)>,
    },
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

fn describe_rows(tables: &[(String, u64)]) -> String {
    tables
        .iter()
        .map(|(table, rows)| format!("{table}: {rows}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a deployment's blobs are, for messages.
pub fn describe_blobs(storage: &Storage) -> String {
    storage.describe_blobs()
}

/// Whether two deployments keep their blobs in the same place (then there is nothing to copy).
fn same_blobs(a: &Storage, b: &Storage) -> bool {
    match (&a.blob_store, &b.blob_store) {
        (BlobStore::Local, BlobStore::Local) => same_dir(&a.data_dir, &b.data_dir),
        (BlobStore::S3(a), BlobStore::S3(b)) => {
            a.bucket == b.bucket && a.prefix == b.prefix && a.endpoint == b.endpoint
        }
        (BlobStore::Local, BlobStore::S3(_)) | (BlobStore::S3(_), BlobStore::Local) => false,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn same_database(a: &Storage, b: &Storage) -> bool {
    use super::storage::Database;
    match (&a.database, &b.database) {
        (Database::Sqlite, Database::Sqlite) => same_dir(&a.data_dir, &b.data_dir),
        (Database::Postgres { .. }, Database::Postgres { .. }) => a.database == b.database,
        _ => false,
    }
}

/// Copies `migration.from` into `migration.to` and compares the copy with its source.
/// `progress` hears one line per step. A report with problems committed nothing.
pub async fn migrate(
    migration: Migration,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<MigrationReport, MigrateError> {
    let Migration { from, to, replace } = migration;
    if same_database(&from, &to) {
        return Err(MigrateError::SameDatabase(from.describe_database()));
    }
    if !from.database_exists() {
        return Err(MigrateError::SourceMissing(from.describe_database()));
    }
    let open = |side: &'static str, storage: &Storage| {
        let storage = storage.clone();
        async move {
            storage
                .open_database()
                .await
                .map_err(|source| MigrateError::Open {
                    side,
                    database: storage.describe_database(),
                    source,
                })
        }
    };
    let source_pool = open("source", &from).await?;
    super::private::create_dir(&to.data_dir).with_context(|| {
        format!(
            "could not create the data directory `{}`",
            to.data_dir.display()
        )
    })?;
    let target_pool = open("target", &to).await?;
    let result = copy_everything(&from, &to, &source_pool, &target_pool, replace, progress).await;
    source_pool.close().await;
    target_pool.close().await;
    result
}

async fn copy_everything(
    from: &Storage,
    to: &Storage,
    source_pool: &store::Pool,
    target_pool: &store::Pool,
    replace: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<MigrationReport, MigrateError> {
    // One snapshot of the source, and the target's write lock for the whole copy.
    let mut source = source_pool
        .begin()
        .await
        .context("could not start reading the source")?;
    let mut target = store::begin_write(target_pool)
        .await
        .context("could not start writing the target")?;
    let tables = copy::plan(&mut source, &mut target).await?;
    refuse_a_deployment(&mut target, &tables, to, replace).await?;

    let mut report = MigrationReport {
        from: Place {
            database: from.describe_database(),
            blobs: describe_blobs(from),
        },
        to: Place {
            database: to.describe_database(),
            blobs: describe_blobs(to),
        },
        tables: Vec::with_capacity(tables.len()),
        blobs: BlobReport::default(),
        problems: Vec::new(),
    };
    if !same_blobs(from, to) {
        progress(&format!(
            "copying blobs from {} to {}",
            report.from.blobs, report.to.blobs
        ));
        let source_blobs = from
            .open_blobs()
            .context("could not open the source's blobs")?;
        let target_blobs = to
            .open_blobs()
            .context("could not open the target's blobs")?;
        let (blobs, problems) = blobs::copy_all(&source_blobs, &target_blobs).await?;
        report.blobs = blobs;
        report.problems.extend(problems);
    }
    if !report.problems.is_empty() {
        return Ok(report);
    }

    // Rows a migration of the target put there (none today) make way for the source's.
    copy::clear(&mut target, &tables)
        .await
        .context("could not empty the target's tables")?;
    progress(&format!(
        "copying {} tables into {}",
        tables.len(),
        report.to.database
    ));
    for table in &tables {
        let copied = copy::copy_table(&mut source, &mut target, table).await?;
        let found = copy::content(&mut target, table).await?;
        if found.rows != copied.rows {
            report.problems.push(format!(
                "table `{}`: the source has {} rows, the target {}",
                table.name, copied.rows, found.rows
            ));
        } else if found != copied {
            report.problems.push(format!(
                "table `{}`: the values read back differ from the source's",
                table.name
            ));
        }
        report.tables.push(TableReport {
            table: table.name.clone(),
            source_rows: copied.rows,
            target_rows: found.rows,
            content_matches: found == copied,
        });
    }
    if report.problems.is_empty() {
        target
            .commit()
            .await
            .context("could not commit the copy into the target")?;
    }
    Ok(report)
}

/// The target may hold rows only when told to replace them: an organization means a
/// deployment (a `fleet server` started on it once already made one).
async fn refuse_a_deployment(
    target: &mut store::Conn,
    tables: &[copy::Table],
    to: &Storage,
    replace: bool,
) -> Result<(), MigrateError> {
    let organizations = copy::row_count(target, "organizations")
        .await
        .context("could not count the target's organizations")?;
    if organizations == 0 || replace {
        return Ok(());
    }
    let mut filled = Vec::new();
    for table in tables {
        let rows = copy::row_count(target, &table.name)
            .await
            .with_context(|| format!("could not count the target's `{}`", table.name))?;
        if rows > 0 {
            filled.push((table.name.clone(), rows));
        }
    }
    Err(MigrateError::TargetNotEmpty {
        database: to.describe_database(),
        tables: filled,
    })
}
