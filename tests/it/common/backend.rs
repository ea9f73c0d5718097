//! Which database (and later blob store) the in-process servers of this suite use: SQLite and
//! local blobs by default, PostgreSQL when `FLEET_TEST_DATABASE_URL` is set (as `.ci/run` does).
//! Replicas opened on one data dir share one PostgreSQL schema, named after that dir.

use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Once;

use fleet::server::{Database, ServerConfig, Storage};
use sqlx::Connection as _;
use sqlx::postgres::PgConnectOptions;

/// The PostgreSQL server the suite runs against, when it does.
pub const DATABASE_URL_VAR: &str = "FLEET_TEST_DATABASE_URL";

fn database_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether this run uses PostgreSQL.
#[allow(dead_code)]
pub fn is_postgres() -> bool {
    database_url().is_some()
}

/// Whether a test about SQLite itself (its files, its locking, its disk use) runs: `true` on
/// the SQLite run; on the PostgreSQL run it says `skipped: <why> (SQLite-specific)` past
/// libtest's capture and returns `false`, so the test returns without asserting.
#[allow(dead_code)]
pub fn sqlite_only(why: &str) -> bool {
    if !is_postgres() {
        return true;
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {why} (SQLite-specific; this run uses PostgreSQL)"
    );
    false
}

/// Points `config` at this run's database: for PostgreSQL, a schema of its own derived from
/// the data dir (so two servers on one data dir are replicas of one deployment).
pub fn apply(config: &mut ServerConfig) {
    if config.database != Database::Sqlite {
        return;
    }
    match database_url() {
        Some(url) => {
            config.database = Database::Postgres {
                url,
                schema: Some(schema_for(&config.data_dir)),
            }
        }
        None => say_skipped(),
    }
}

/// The storage a server on `data_dir` uses in this run (for seeding and offline tools).
pub fn storage(data_dir: &Path) -> Storage {
    let mut config = ServerConfig::new(data_dir);
    apply(&mut config);
    config.storage()
}

fn schema_for(data_dir: &Path) -> String {
    let mut hasher = DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("t_{}_{:016x}", std::process::id(), hasher.finish())
}

/// Says once per run, past libtest's output capture, that the PostgreSQL run was not made.
fn say_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the PostgreSQL run of the integration suite ({DATABASE_URL_VAR} is not set); \
             this run used SQLite. `bash .ci/run` runs both, or set {DATABASE_URL_VAR}=postgres://…"
        );
    });
}

/// Rows of `sql` against the database of `storage`, behind the service's back (to prove what
/// a request changed and what it did not); every column must be TEXT (CAST the rest).
pub fn rows(storage: &Storage, sql: &str) -> Vec<Vec<Option<String>>> {
    run(storage, sql, "ro")
}

/// Runs the writing statement `sql` on the database of `storage`, behind the service's back:
/// for states the API cannot make (chosen timestamps).
#[allow(dead_code)]
pub fn execute(storage: &Storage, sql: &str) {
    run(storage, sql, "rw");
}

/// `sqlite_mode`: `ro` or `rw`, how a SQLite database file is opened. A thread of its own, as
/// callers may be inside an async test's runtime.
fn run(storage: &Storage, sql: &str, sqlite_mode: &'static str) -> Vec<Vec<Option<String>>> {
    let database = storage.database.clone();
    let path = storage.data_dir.join(fleet::server::DB_FILE);
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                match database {
                    Database::Sqlite => {
                        let url = format!("sqlite://{}?mode={sqlite_mode}", path.display());
                        let mut conn = sqlx::SqliteConnection::connect(&url)
                            .await
                            .expect("open the database");
                        let rows = sqlx::query(&sql).fetch_all(&mut conn).await.expect("query");
                        conn.close().await.ok();
                        rows.iter().map(text_columns).collect()
                    }
                    Database::Postgres { url, schema } => {
                        let mut options = PgConnectOptions::from_str(&url).expect("database URL");
                        if let Some(schema) = &schema {
                            options = options.options([("search_path", schema.as_str())]);
                        }
                        let mut conn = sqlx::PgConnection::connect_with(&options)
                            .await
                            .expect("connect to PostgreSQL");
                        let rows = sqlx::query(&sql).fetch_all(&mut conn).await.expect("query");
                        conn.close().await.ok();
                        rows.iter().map(text_columns).collect()
                    }
                }
            })
    })
    .join()
    .expect("query thread")
}

fn text_columns<R: sqlx::Row>(row: &R) -> Vec<Option<String>>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| row.try_get::<Option<String>, _>(i).expect("text column"))
        .collect()
}
