//! Unit tests only: a fresh database of each backend this run can reach, so store-level tests
//! run on SQLite always and on PostgreSQL when `FLEET_TEST_DATABASE_URL` is set (each in a new
//! schema); otherwise they say the PostgreSQL run was skipped.

use std::io::Write as _;

use super::{Pool, begin_write, now, query};

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

/// Runs `sql` in a write transaction of its own and commits it, as the service's writes do.
pub async fn execute(pool: &Pool, sql: &str) {
    let mut tx = begin_write(pool).await.expect("begin");
    query(sql).execute(&mut tx).await.expect(sql);
    tx.commit().await.expect("commit");
}

/// Organization `o` with products `p` and `q`, each statement committed on its own.
pub async fn seed_org_and_products(pool: &Pool) {
    let at = now().to_rfc3339();
    execute(
        pool,
        &format!("INSERT INTO organizations (id, name, created_at) VALUES ('o', 'o', '{at}')"),
    )
    .await;
    execute(
        pool,
        &format!(
            "INSERT INTO products (id, org_id, name, created_at, updated_at) \
             VALUES ('p', 'o', 'p', '{at}', '{at}'), ('q', 'o', 'q', '{at}', '{at}')"
        ),
    )
    .await;
}

/// A database migrated to just before the device split (SQLite 0019, PostgreSQL 0023), seeded
/// for the upgrade tests: org `o`, product `p`, cohort `c`, device `d1` (in `c`, quarantined,
/// needing provisioning, at revision 7, with a description, tags and a target) and device `d2`,
/// and a status row for `d1`. One text of statements, all timestamps `at`.
pub fn before_the_device_split(at: &str) -> String {
    format!(
        "INSERT INTO organizations (id, name, created_at) VALUES ('o', 'o', '{at}'); \
         INSERT INTO products (id, org_id, name, created_at, updated_at) \
         VALUES ('p', 'o', 'p', '{at}', '{at}'); \
         INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
         VALUES ('c', 'o', 'p', 'c', '{at}', '{at}'); \
         INSERT INTO devices (id, org_id, product_id, cohort_id, identifier, description, \
         tags, target, quarantined, created_at, updated_at, revision, needs_provisioning) \
         VALUES ('d1', 'o', 'p', 'c', 'sn-1', 'first', '[\"a:b\"]', 'arm', TRUE, '{at}', \
         '{at}', 7, TRUE), \
         ('d2', 'o', 'p', NULL, 'sn-2', '', '[]', NULL, FALSE, '{at}', '{at}', 1, FALSE); \
         INSERT INTO device_status (device_id, last_seen_at, check_ins, product_id, \
         cohort_id) VALUES ('d1', '{at}', 3, 'p', 'c');"
    )
}
