//! Unit tests only: a fresh database of each backend this run can reach, so store-level tests
//! run on SQLite always and on PostgreSQL when `FLEET_TEST_DATABASE_URL` is set (each in a new
//! schema); otherwise they say the PostgreSQL run was skipped.

use std::io::Write as _;

use super::Pool;

/// The variable the integration suite reads too.
const DATABASE_URL_VAR: &str = "FLEET_TEST_DATABASE_URL";

/// A SQLite pool in a temp dir (kept alive by the first element), and a PostgreSQL pool in a
/// schema of its own when the run has PostgreSQL.
pub async fn all() -> Vec<(Option<tempfile::TempDir>, Pool)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = super::open(&dir.path().join("test.db"))
        .await
        .expect("open SQLite");
    let mut pools = vec![(Some(dir), sqlite)];
    match std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(url) => {
            let schema = format!("u_{}", uuid::Uuid::now_v7().simple());
            let pool = super::postgres::open(&url, Some(&schema))
                .await
                .expect("open PostgreSQL");
            pools.push((None, pool));
        }
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: the PostgreSQL run of this store test ({DATABASE_URL_VAR} is not set)"
            );
        }
    }
    pools
}
