//! SQLite's migrations: sqlx's migrator, except for a migration whose first line is
//! `-- no-transaction`, which runs here with foreign keys off.
//!
//! A migration that rebuilds a table others reference (SQLite cannot drop a column a constraint
//! names) must drop the old table without the implicit `DELETE` cascading into the referencing
//! rows, so foreign keys have to be off; `PRAGMA foreign_keys` does nothing inside a
//! transaction, and sqlx 0.8 runs every SQLite migration inside one whatever its first line
//! says. So such a migration runs here: foreign keys off, then one transaction holding the
//! migration, the foreign key check and sqlx's bookkeeping row, so it is applied whole or not
//! at all and sqlx sees it as applied.

use std::borrow::Cow;
use std::time::Instant;

use anyhow::Context as _;
use sqlx::SqlitePool;
use sqlx::migrate::{Migration, Migrator};

use super::{Conn, query};

/// Every migration of the SQLite schema.
static MIGRATOR: Migrator = sqlx::migrate!("src/server/store/migrations/sqlite");

/// Applies every pending migration, in order.
// Every step owns what it uses (the pool, a migration's index): with references held across
// its awaits, the compiler cannot prove this future `Send` for every lifetime through sqlx's
// generic executors, and the server spawns it.
pub async fn run(pool: SqlitePool) -> anyhow::Result<()> {
    let no_tx: Vec<usize> = MIGRATOR
        .iter()
        .enumerate()
        .filter_map(|(n, migration)| migration.no_tx.then_some(n))
        .collect();
    for n in no_tx {
        apply_alone(pool.clone(), n).await?;
    }
    MIGRATOR.run(&pool).await?;
    Ok(())
}

/// Applies the migrations before the `n`th, then that one with foreign keys off, unless it is
/// applied already.
async fn apply_alone(pool: SqlitePool, n: usize) -> anyhow::Result<()> {
    let migration = &MIGRATOR.migrations[n];
    let mut conn = Conn::from(pool.acquire().await?);
    if applied(&mut conn, migration.version).await? {
        return Ok(());
    }
    // Given back before sqlx's migrator takes one: the write pool has a single connection.
    drop(conn);
    stretch(&MIGRATOR.migrations[..n]).run(&pool).await?;
    let mut conn = Conn::from(pool.acquire().await?);
    apply_without_foreign_keys(&mut conn, migration)
        .await
        .with_context(|| {
            format!(
                "migration {} ({})",
                migration.version, migration.description
            )
        })
}

/// Whether the migration `version` is applied (false before sqlx made its table).
async fn applied(conn: &mut Conn, version: i64) -> sqlx::Result<bool> {
    let table: Option<(String,)> =
        query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(&mut *conn)
            .await?;
    if table.is_none() {
        return Ok(false);
    }
    let row: Option<(i64,)> = query("SELECT version FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// sqlx's migrator over the migrations before a no-transaction one. Later migrations may be
/// applied already (a database this replica's binary migrated before): they are not missing.
// sqlx builds its `Migrator` with a struct literal too (`migrate!`); its fields are public
// for that and exempt from semver, which Cargo.lock's pinned version makes safe here.
fn stretch(migrations: &'static [Migration]) -> Migrator {
    Migrator {
        migrations: Cow::Borrowed(migrations),
        ignore_missing: true,
        locking: true,
        no_tx: false,
    }
}

async fn apply_without_foreign_keys(conn: &mut Conn, migration: &Migration) -> anyhow::Result<()> {
    query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let applied = match apply_in_transaction(conn, migration).await {
        Ok(()) => query("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(Into::into),
        Err(err) => {
            query("ROLLBACK").execute(&mut *conn).await?;
            Err(err)
        }
    };
    // Back on whatever happened: the pool hands this connection out again.
    query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    applied.map(drop)
}

async fn apply_in_transaction(conn: &mut Conn, migration: &Migration) -> anyhow::Result<()> {
    let start = Instant::now();
    query(&*migration.sql).execute(&mut *conn).await?;
    // Foreign keys were off: what they would have refused is refused here.
    let broken: Vec<(String,)> = query("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *conn)
        .await?;
    if let Some((table,)) = broken.first() {
        anyhow::bail!(
            "it left {} rows whose foreign keys point nowhere (first in table `{table}`)",
            broken.len()
        );
    }
    let elapsed = i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX);
    query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, TRUE, $3, $4)",
    )
    .bind(migration.version)
    .bind(&*migration.description)
    .bind(&*migration.checksum)
    .bind(elapsed)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;
    use crate::server::store::test_pools;

    async fn count(pool: &SqlitePool, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.expect(sql);
        n
    }

    /// A database from before the first no-transaction migration (0019, which rebuilt
    /// `devices`) keeps every device and every row that references one; dropping the old table
    /// with foreign keys on would have cascaded into them.
    #[tokio::test]
    async fn the_rebuild_keeps_every_device_and_the_rows_that_reference_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("fleet.db"))
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("open");
        let n = MIGRATOR
            .iter()
            .position(|migration| migration.no_tx)
            .expect("a no-transaction migration");
        stretch(&MIGRATOR.migrations[..n])
            .run(&pool)
            .await
            .expect("the migrations before it");
        let at = "2026-01-02T03:04:05+00:00";
        sqlx::raw_sql(&test_pools::before_the_device_split(at))
            .execute(&pool)
            .await
            .expect("seed");

        run(pool.clone()).await.expect("migrate");

        let (identifier, description, tags, target, created_at): (
            String,
            String,
            String,
            Option<String>,
            String,
        ) = sqlx::query_as(
            "SELECT identifier, description, tags, target, created_at FROM device_details \
             WHERE device_id = 'd1'",
        )
        .fetch_one(&pool)
        .await
        .expect("d1's details");
        assert_eq!(
            (identifier.as_str(), description.as_str(), tags.as_str()),
            ("sn-1", "first", "[\"a:b\"]")
        );
        assert_eq!((target.as_deref(), created_at.as_str()), (Some("arm"), at));
        let (cohort, quarantined, revision, needs): (Option<String>, bool, i64, bool) =
            sqlx::query_as(
                "SELECT cohort_id, quarantined, revision, needs_provisioning FROM devices \
                 WHERE id = 'd1'",
            )
            .fetch_one(&pool)
            .await
            .expect("d1");
        assert_eq!(
            (cohort.as_deref(), quarantined, revision, needs),
            (Some("c"), true, 7, true)
        );
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM device_records").await, 2);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM device_status").await, 1);
        let (devices, counted): (i64, i64) =
            sqlx::query_as("SELECT SUM(devices), SUM(quarantined) FROM device_counts")
                .fetch_one(&pool)
                .await
                .expect("counts");
        assert_eq!((devices, counted), (2, 1));

        // Foreign keys are back on, and the new table is what the references point at.
        sqlx::query("DELETE FROM devices WHERE id = 'd1'")
            .execute(&pool)
            .await
            .expect("delete");
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM device_status").await, 0);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM device_details").await, 1);
        let orphan = sqlx::query(
            "INSERT INTO device_status (device_id, last_seen_at, check_ins) \
             VALUES ('nope', '2026-01-01T00:00:00+00:00', 1)",
        )
        .execute(&pool)
        .await;
        assert!(orphan.is_err(), "a status row for no device was accepted");

        // Run again: nothing pending, nothing changed.
        run(pool.clone()).await.expect("migrate again");
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM device_records").await, 1);
    }
}
