//! Which database and blob store the in-process servers of this suite use: SQLite and local
//! blobs by default, PostgreSQL when `FLEET_TEST_DATABASE_URL` is set, an S3-compatible server
//! (moto, started by `.ci/s3`) when `FLEET_TEST_S3_ENDPOINT` is set. Replicas opened on one
//! data dir share one PostgreSQL schema and one bucket prefix, both named after that dir.

use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::{Once, OnceLock};

use fleet::server::{BlobStore, Database, S3Settings, ServerConfig, Storage};
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

/// The S3-compatible server the suite keeps firmware in, when it does.
pub const S3_ENDPOINT_VAR: &str = "FLEET_TEST_S3_ENDPOINT";
/// The bucket of every test server; each data dir has a prefix of its own in it.
const S3_BUCKET: &str = "fleet-test";

fn s3_endpoint() -> Option<String> {
    std::env::var(S3_ENDPOINT_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether this run keeps firmware in S3.
#[allow(dead_code)]
pub fn is_s3() -> bool {
    s3_endpoint().is_some()
}

/// Whether a test that reads `<data-dir>/blobs` itself can run: true with local blobs; with S3
/// it says on stderr that `test` was skipped.
#[allow(dead_code)]
pub fn local_blobs(test: &str) -> bool {
    if !is_s3() {
        return true;
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test} reads the local blob directory; this run keeps firmware in S3"
    );
    false
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

/// Points `config` at this run's database and blob store: for PostgreSQL, a schema of its own
/// derived from the data dir; for S3, a prefix derived the same way (so two servers on one
/// data dir are replicas of one deployment).
pub fn apply(config: &mut ServerConfig) {
    if config.database == Database::Sqlite {
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
    if config.blob_store == BlobStore::Local {
        match s3_endpoint() {
            Some(endpoint) => {
                config.blob_store = BlobStore::S3(s3_settings(&endpoint, &config.data_dir))
            }
            None => say_s3_skipped(),
        }
    }
}

/// moto's bucket for this run (created once) and a prefix of the data dir's own.
fn s3_settings(endpoint: &str, data_dir: &Path) -> S3Settings {
    static BUCKET: OnceLock<()> = OnceLock::new();
    BUCKET.get_or_init(|| create_bucket(endpoint));
    S3Settings {
        bucket: S3_BUCKET.to_owned(),
        prefix: Some(schema_for(data_dir)),
        endpoint: Some(endpoint.to_owned()),
        region: "us-east-1".to_owned(),
        access_key_id: "fleet-test".to_owned(),
        secret_access_key: "fleet-test".to_owned(),
        session_token: None,
        path_style: true,
        allow_http: true,
    }
}

/// `PUT /BUCKET` on the test server (moto takes it unsigned); an existing bucket is fine.
fn create_bucket(endpoint: &str) {
    let url = format!("{}/{S3_BUCKET}", endpoint.trim_end_matches('/'));
    // Its own thread and runtime: `apply` runs both inside and outside a tokio runtime.
    let status = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async { reqwest::Client::new().put(&url).send().await })
    })
    .join()
    .expect("bucket thread")
    .unwrap_or_else(|err| panic!("could not reach the S3 test server {endpoint}: {err}"));
    assert!(
        status.status().is_success() || status.status() == reqwest::StatusCode::CONFLICT,
        "could not create bucket {S3_BUCKET} on {endpoint}: {}",
        status.status()
    );
}

/// The storage a server on `data_dir` uses in this run (for seeding and offline tools).
pub fn storage(data_dir: &Path) -> Storage {
    let mut config = ServerConfig::new(data_dir);
    apply(&mut config);
    config.storage()
}

/// The flags a `fleet server` process needs to serve the deployment on `data_dir` in this
/// run (none for SQLite and local blobs: the data dir says it all).
#[allow(dead_code)]
pub fn server_args(data_dir: &Path) -> Vec<String> {
    let mut args = database_args(data_dir);
    args.extend(blob_args(data_dir));
    args
}

/// The `--blob-store` and `--s3-*` flags of the deployment on `data_dir` in this run (none
/// for local blobs), for `fleet server` and `fleet server migrate`.
#[allow(dead_code)]
pub fn blob_args(data_dir: &Path) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(endpoint) = s3_endpoint() {
        let s3 = s3_settings(&endpoint, data_dir);
        let prefix = s3.prefix.unwrap_or_default();
        args.extend([
            "--blob-store".to_owned(),
            format!("s3://{}/{prefix}", s3.bucket),
            "--s3-endpoint".to_owned(),
            endpoint,
            "--s3-region".to_owned(),
            s3.region,
            "--s3-path-style".to_owned(),
            "--s3-access-key-id".to_owned(),
            s3.access_key_id,
            "--s3-secret-access-key".to_owned(),
            s3.secret_access_key,
        ]);
    }
    args
}

/// The `--database-url` a `fleet server` command (the service, `api-key create`) needs for
/// the deployment on `data_dir` in this run (none for SQLite).
#[allow(dead_code)]
pub fn database_args(data_dir: &Path) -> Vec<String> {
    let Some(url) = database_url() else {
        return Vec::new();
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let schema = schema_for(data_dir);
    vec![
        "--database-url".to_owned(),
        format!("{url}{separator}options=-c%20search_path%3D{schema}"),
    ]
}

fn schema_for(data_dir: &Path) -> String {
    let mut hasher = DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("t_{}_{:016x}", std::process::id(), hasher.finish())
}

/// Says once per run, past libtest's output capture, that the S3 run was not made.
fn say_s3_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the S3 run of the integration suite ({S3_ENDPOINT_VAR} is not set); this run \
             kept firmware in local blob directories. Start moto with `bash .ci/s3 start` and set \
             {S3_ENDPOINT_VAR} to the endpoint it prints"
        );
    });
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
