//! The database connections. SQLite: a pool of read-only connections for reads and exactly one
//! write connection that every writing transaction queues for, and how a failed one is thrown
//! away. PostgreSQL: one pool, writers serialized by an advisory lock (opened in `postgres`),
//! and queued inside the replica first so that waiting writers never hold the pool's
//! connections that reads need.
//!
//! SQLite in WAL mode lets any number of readers run beside one writer. With one shared pool,
//! writers waiting on the write lock held connections that readers then waited for; here writers
//! queue inside the service for the one write connection and readers never wait behind them.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use sqlx::{Postgres, Sqlite};

use super::conn::{Conn, Tx};
use crate::server::private;

/// Read connections per core. Each runs its queries on a thread of its own; many more threads
/// than cores would crowd out the one writer's thread, and writes would slow down.
const READERS_PER_CORE: u32 = 1;
/// Read connections at least, so one slow read never holds up all others.
const MIN_READERS: u32 = 2;
/// How long a write waits for the write lock when another process holds it (a seeding script,
/// `fleet server api-key create` on the same data dir). Writers of this process queue on the
/// write connection instead and never reach it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The service's database connections. Cloning is cheap (`Arc`s inside).
#[derive(Clone)]
pub struct Pool {
    engine: Engine,
    #[cfg(feature = "test-hooks")]
    gate: Option<std::sync::Arc<super::write_gate::WriteGate>>,
}

#[derive(Clone)]
enum Engine {
    /// Read-only connections for reads, and the one write connection writers queue for.
    Sqlite {
        reader: sqlx::Pool<Sqlite>,
        writer: sqlx::Pool<Sqlite>,
    },
    /// One pool; writers take turns in this replica (`writers`), then serialize across
    /// replicas on an advisory lock (see [`begin_write`]).
    Postgres {
        pool: sqlx::Pool<Postgres>,
        writers: Arc<tokio::sync::Mutex<()>>,
    },
}

impl Pool {
    pub(super) fn postgres(pool: sqlx::Pool<Postgres>) -> Pool {
        Pool {
            engine: Engine::Postgres {
                pool,
                writers: Arc::default(),
            },
            #[cfg(feature = "test-hooks")]
            gate: None,
        }
    }

    /// A connection for reads. Anything that writes goes through [`begin_write`] or
    /// [`Pool::acquire_writer`].
    pub async fn acquire(&self) -> sqlx::Result<Conn> {
        Ok(match &self.engine {
            Engine::Sqlite { reader, .. } => reader.acquire().await?.into(),
            Engine::Postgres { pool, .. } => pool.acquire().await?.into(),
        })
    }

    /// A read-only transaction: one consistent snapshot over several queries (temporary tables
    /// are allowed: they live in the connection, not in the database).
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match &self.engine {
            Engine::Sqlite { reader, .. } => reader.begin().await?.into(),
            Engine::Postgres { pool, .. } => pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
                .await?
                .into(),
        })
    }

    /// A connection that may write, for a single writing statement outside a transaction.
    pub async fn acquire_writer(&self) -> sqlx::Result<Conn> {
        Ok(match &self.engine {
            Engine::Sqlite { writer, .. } => writer.acquire().await?.into(),
            Engine::Postgres { pool, .. } => pool.acquire().await?.into(),
        })
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (`LISTEN`); `None` on SQLite.
    pub(super) fn postgres_pool(&self) -> Option<&sqlx::Pool<Postgres>> {
        match &self.engine {
            Engine::Postgres { pool, .. } => Some(pool),
            Engine::Sqlite { .. } => None,
        }
    }

    pub async fn close(&self) {
        match &self.engine {
            Engine::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Engine::Postgres { pool, .. } => pool.close().await,
        }
    }

    /// Unit tests only: closed pools, for tests where only the code around the store matters.
    /// Every use fails at once with `PoolClosed`, never after connecting on a worker thread:
    /// under tokio's paused clock such a wait would let time jump ahead.
    #[cfg(test)]
    pub async fn closed() -> Pool {
        let lazy = || {
            SqlitePoolOptions::new()
                .connect_lazy("sqlite::memory:")
                .expect("an in-memory database URL parses")
        };
        let pool = Pool {
            engine: Engine::Sqlite {
                reader: lazy(),
                writer: lazy(),
            },
            #[cfg(feature = "test-hooks")]
            gate: None,
        };
        pool.close().await;
        pool
    }

    /// Testing only: writes stop at `gate` once they hold the write lock.
    #[cfg(feature = "test-hooks")]
    pub fn set_write_gate(&mut self, gate: Option<std::sync::Arc<super::write_gate::WriteGate>>) {
        self.gate = gate;
    }
}

/// Opens (creating if needed) the SQLite database at `path` and applies the embedded migrations.
pub async fn open(path: &Path) -> anyhow::Result<Pool> {
    make_private(path)?;
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let write_options = options
        .clone()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let writer = pool_options(1)
        .connect_with(write_options)
        .await
        .with_context(|| format!("could not open the database `{}`", path.display()))?;
    super::sqlite_migrate::run(writer.clone())
        .await
        .with_context(|| format!("could not migrate the database `{}`", path.display()))?;
    // Opened after the writer made the file and switched it to WAL, which is what lets
    // read-only connections read while the writer writes.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let readers = u32::try_from(cores)
        .unwrap_or(u32::MAX)
        .saturating_mul(READERS_PER_CORE)
        .max(MIN_READERS);
    let reader = pool_options(readers)
        .connect_with(options.read_only(true))
        .await
        .with_context(|| format!("could not open the database `{}`", path.display()))?;
    Ok(Pool {
        engine: Engine::Sqlite { reader, writer },
        #[cfg(feature = "test-hooks")]
        gate: None,
    })
}

/// Makes the database file 0600 (created empty when missing, which SQLite takes for a new
/// database) before SQLite opens it: SQLite gives its `-wal` and `-shm` files the database
/// file's mode, so they follow. Files of an older data dir are tightened too, where this user
/// may: another user with access (an operator's `fleet server api-key create`) still opens it.
fn make_private(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        private::create_file(path).with_context(|| {
            format!(
                "could not create the database `{}` (mode 0600)",
                path.display()
            )
        })?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = Path::new(&file);
        if let Err(err) = private::restrict(file, private::FILE_MODE) {
            tracing::warn!(file = %file.display(), error = %err, "could not make a database file private (mode 0600)");
        }
    }
    Ok(())
}

fn pool_options(max_connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        // sqlx pings an idle connection before handing it out, to find one whose server hung
        // up; a SQLite connection has no server, and sqlx already pinged it when it came back
        // (after `after_release` below). That ping is a round trip to the connection's worker
        // thread on every acquire.
        .test_before_acquire(false)
        .after_release(|conn, _| {
            Box::pin(async move {
                // The depth sqlx keeps for a connection rises only once its worker thread ran a
                // BEGIN that someone awaited (a BEGIN whose caller went away is rolled back by
                // the worker itself), and a ROLLBACK queued later can only lower it. So a
                // connection at depth 0 now, as every read connection that began no transaction
                // is, has nothing open and nothing to wait for: it goes back without this ping,
                // a round trip to its worker thread on every release (sqlx pings it once more
                // anyway after this callback).
                if !conn.is_in_transaction() {
                    return Ok(true);
                }
                // A transaction dropped without commit queues its ROLLBACK on the connection;
                // the ping runs after it, so what is still open now failed to end. That happens
                // when SQLite already rolled back by itself (a full disk fails COMMIT, and the
                // ROLLBACK that follows finds no transaction): such a connection would refuse
                // every later BEGIN, so it is closed and the next acquire opens a fresh one.
                conn.ping().await?;
                let clean = !conn.is_in_transaction();
                if !clean {
                    tracing::warn!(
                        "closing a database connection left inside a failed transaction"
                    );
                }
                Ok(clean)
            })
        })
}

/// Starts a write transaction holding the database's write lock from its first statement, so
/// a transaction's checks and writes see no other writer in between on either backend.
///
/// SQLite: writers of this service queue for the one write connection; `IMMEDIATE` still
/// matters against other processes on the same file: a deferred `BEGIN` that reads and then
/// writes fails with SQLITE_BUSY when another writer committed in between.
///
/// PostgreSQL: every replica's writers take one transaction-scoped advisory lock, the same
/// one-writer-at-a-time rule SQLite has, so the domain's check-then-write rules (names, counts,
/// archived products) hold across replicas without serialization failures to retry. Reads
/// never take it. Before a connection, a writer waits for its turn among this replica's
/// writers, as it does for SQLite's one write connection: writers queued on the lock would
/// otherwise hold every pooled connection, and reads would wait behind them.
pub async fn begin_write(pool: &Pool) -> sqlx::Result<Tx> {
    #[cfg(feature = "test-hooks")]
    if let Some(gate) = &pool.gate {
        gate.arrive();
    }
    let tx: Tx = match &pool.engine {
        Engine::Sqlite { writer, .. } => writer.begin_with("BEGIN IMMEDIATE").await?.into(),
        Engine::Postgres { pool, writers } => {
            let turn = writers.clone().lock_owned().await;
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Tx::from(tx).holding(turn)
        }
    };
    #[cfg(feature = "test-hooks")]
    if let Some(gate) = &pool.gate {
        gate.pass().await;
    }
    Ok(tx)
}

/// The first half of the advisory lock every PostgreSQL write transaction holds ("flee" in
/// ASCII); the second half is a hash of the schema, so deployments (and test servers) in
/// different schemas of one database do not wait for each other's writers. A hash collision
/// between two schemas only makes them take turns.
const WRITE_LOCK: i32 = 0x666c_6565;

/// PostgreSQL's SQLSTATE for "disk full".
const PG_DISK_FULL: &str = "53100";

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i64 = 13;

/// Whether `err` says the database's file system is full: writes cannot succeed until space is
/// freed, and nothing of the failed write was kept.
pub fn is_disk_full(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code == PG_DISK_FULL
                || code
                    .parse::<i64>()
                    .is_ok_and(|code| code & 0xff == SQLITE_FULL)
        }),
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = open(&dir.path().join("test.db")).await.expect("open");
        (dir, pool)
    }

    /// The state a COMMIT that failed on a full disk leaves: SQLite rolled back by itself, so
    /// the connection believes it is inside a transaction that no longer exists, and neither
    /// COMMIT nor ROLLBACK can end it.
    async fn wedge_the_write_connection(pool: &Pool) {
        let mut tx = begin_write(pool).await.expect("begin");
        crate::server::store::query("ROLLBACK")
            .execute(&mut tx)
            .await
            .expect("roll back behind the transaction's back");
        assert!(
            tx.commit().await.is_err(),
            "a commit with no transaction fails"
        );
    }

    #[tokio::test]
    async fn a_connection_whose_transaction_failed_to_end_is_not_reused() {
        let (_dir, pool) = fresh().await;
        wedge_the_write_connection(&pool).await;
        // The next write gets a working connection: a reused one would fail to BEGIN.
        let mut tx = begin_write(&pool)
            .await
            .expect("a write after the failure begins");
        crate::server::store::query("CREATE TABLE after_failure (x INTEGER)")
            .execute(&mut tx)
            .await
            .expect("write");
        tx.commit().await.expect("commit");
    }

    #[tokio::test]
    async fn a_rolled_back_transaction_keeps_its_connection() {
        let (_dir, pool) = fresh().await;
        // A temporary table lives as long as its connection: it marks the write connection.
        let mut conn = pool.acquire_writer().await.expect("acquire");
        crate::server::store::query("CREATE TEMP TABLE marker (x INTEGER)")
            .execute(&mut conn)
            .await
            .expect("mark the connection");
        drop(conn);
        let tx = begin_write(&pool).await.expect("begin");
        drop(tx);
        let mut conn = pool.acquire_writer().await.expect("acquire");
        crate::server::store::query("SELECT x FROM marker")
            .execute(&mut conn)
            .await
            .expect("the same connection came back after an ordinary rollback");
    }

    #[tokio::test]
    async fn reads_cannot_write() {
        let (_dir, pool) = fresh().await;
        let mut conn = pool.acquire().await.expect("acquire");
        let err = crate::server::store::query("CREATE TABLE nope (x INTEGER)")
            .execute(&mut conn)
            .await
            .expect_err("a read connection refuses writes");
        assert!(err.to_string().contains("readonly"), "{err}");
    }

    /// Two deployments in different schemas of one PostgreSQL database (as every test server
    /// of the PostgreSQL run is) each have a writer of their own: a write held open in one does
    /// not stall the other's, which a database-wide lock did.
    #[tokio::test]
    async fn writers_in_different_postgres_schemas_do_not_wait_for_each_other() {
        let mut postgres = Vec::new();
        for _ in 0..2 {
            postgres.extend(
                crate::server::store::test_pools::all()
                    .await
                    .into_iter()
                    .map(|(_, pool)| pool)
                    .filter(|pool| pool.postgres_pool().is_some()),
            );
        }
        let [first, second] = postgres.as_slice() else {
            return; // test_pools said the PostgreSQL run was skipped.
        };
        let held = begin_write(first).await.expect("the first schema's writer");
        // The deadline only turns a regression's hang into a failure; the writer needs none.
        let other = tokio::time::timeout(std::time::Duration::from_secs(60), begin_write(second))
            .await
            .expect("the second schema's writer did not wait for the first's")
            .expect("the second schema's writer");
        other.commit().await.expect("commit the second");
        held.commit().await.expect("commit the first");
    }

    #[test]
    fn disk_full_is_recognised_by_its_primary_code() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(is_disk_full(&io));
        assert!(!is_disk_full(&sqlx::Error::RowNotFound));
    }
}
