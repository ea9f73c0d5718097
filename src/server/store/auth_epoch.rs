//! The epochs: counters in one database row. The API key epoch is bumped by the triggers of
//! migration 0008 (and 0010) inside every transaction that can make a cached key or device
//! identity less valid; the offers epoch (migration 0018 on SQLite, 0020 on PostgreSQL) inside
//! every transaction that can change a device's check-in context. Reading both is one
//! single-row statement; on PostgreSQL the API key epoch's triggers send `NOTIFY` on
//! [`CHANNEL`] at commit.

use sqlx::postgres::PgListener;

use super::{Pool, query};

/// The PostgreSQL notification channel; its payload is the schema whose epoch moved (channels
/// are per database, and one database may hold several deployments, one per schema).
pub const CHANNEL: &str = "fleet_auth_epoch";

/// Both epochs as read together, from one committed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epochs {
    /// Moves when a cached API key or device identity may have become less valid.
    pub auth: i64,
    /// Moves when a device's check-in context may have changed.
    pub offers: i64,
}

/// The current epochs, as committed.
pub async fn read(pool: &Pool) -> sqlx::Result<Epochs> {
    let (auth, offers): (i64, i64) =
        query("SELECT epoch, offers_epoch FROM auth_epoch WHERE id = 1")
            .fetch_one(&mut pool.acquire().await?)
            .await?;
    Ok(Epochs { auth, offers })
}

/// A listener on [`CHANNEL`] and the schema this deployment's notifications name; `None` on
/// SQLite, which has no notifications.
pub async fn listen(pool: &Pool) -> sqlx::Result<Option<(PgListener, String)>> {
    let Some(pg) = pool.postgres_pool() else {
        return Ok(None);
    };
    let (schema,): (String,) = query("SELECT current_schema()")
        .fetch_one(&mut pool.acquire().await?)
        .await?;
    let mut listener = PgListener::connect_with(pg).await?;
    listener.listen(CHANNEL).await?;
    Ok(Some((listener, schema)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::test_pools::{execute as run, seed_org_and_products};
    use crate::server::store::{now, test_pools};

    /// Every change that can narrow a cached key bumps the epoch in its own transaction; the
    /// frequent `last_used_at` write and new keys do not.
    #[tokio::test]
    async fn exactly_the_changes_that_narrow_a_key_bump_the_epoch() {
        for (_guard, pool) in test_pools::all().await {
            let at = now().to_rfc3339();
            run(
                &pool,
                &format!(
                    "INSERT INTO organizations (id, name, created_at) VALUES ('o', 'o', '{at}')"
                ),
            )
            .await;
            run(&pool, &format!("INSERT INTO products (id, org_id, name, created_at, updated_at) VALUES ('p', 'o', 'p', '{at}', '{at}')")).await;
            for key in ["a", "b", "c", "d"] {
                run(
                    &pool,
                    &format!(
                        "INSERT INTO api_keys (id, org_id, name, role, hash, created_at, scoped) \
                     VALUES ('{key}', 'o', '{key}', 'read', 'h{key}', '{at}', TRUE)"
                    ),
                )
                .await;
            }
            run(
                &pool,
                "INSERT INTO api_key_products (key_id, product_id) VALUES ('a', 'p')",
            )
            .await;
            let start = read(&pool).await.expect("read").auth;
            let changes = [
                (
                    format!("UPDATE api_keys SET last_used_at = '{at}' WHERE id = 'a'"),
                    0,
                ),
                (
                    format!("UPDATE api_keys SET revoked_at = '{at}' WHERE id = 'a'"),
                    1,
                ),
                (
                    format!("UPDATE api_keys SET expires_at = '{at}' WHERE id = 'b'"),
                    1,
                ),
                (
                    "UPDATE api_keys SET role = 'admin' WHERE id = 'c'".to_owned(),
                    1,
                ),
                // The product's deletion cascades to the scope row of key `a`.
                ("DELETE FROM products WHERE id = 'p'".to_owned(), 1),
                ("DELETE FROM api_keys WHERE id = 'd'".to_owned(), 1),
            ];
            let mut expected = start;
            for (sql, bumps) in changes {
                run(&pool, &sql).await;
                expected += bumps;
                assert_eq!(
                    read(&pool).await.expect("read").auth,
                    expected,
                    "after {sql}"
                );
            }
        }
    }

    /// Every change that can alter a device's check-in context bumps the offers epoch (at least
    /// once: SQLite bumps per row, PostgreSQL per statement); the check-in writer's frequent
    /// status writes and the changes a context does not show do not.
    #[tokio::test]
    async fn exactly_the_changes_that_alter_a_check_in_bump_the_offers_epoch() {
        for (_guard, pool) in test_pools::all().await {
            let at = now().to_rfc3339();
            seed_org_and_products(&pool).await;
            let setup = [
                format!(
                    "INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
                     VALUES ('c', 'o', 'p', 'c', '{at}', '{at}'), \
                     ('c2', 'o', 'p', 'c2', '{at}', '{at}')"
                ),
                format!(
                    "INSERT INTO bundles (id, org_id, product_id, name, created_at) \
                     VALUES ('b', 'o', 'p', 'b', '{at}')"
                ),
            ];
            for sql in &setup {
                run(&pool, sql).await;
            }
            let device = |id: &str| {
                format!(
                    "INSERT INTO devices (id, org_id, product_id, cohort_id, updated_at) \
                     VALUES ('{id}', 'o', 'p', 'c', '{at}')"
                )
            };
            let details = |id: &str| {
                format!(
                    "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
                     VALUES ('{id}', 'o', '{id}', '{at}')"
                )
            };
            let status = |id: &str, target: &str| {
                format!(
                    "INSERT INTO device_status (device_id, last_seen_at, check_ins, \
                     reported_target, product_id, cohort_id) VALUES ('{id}', '{at}', 1, \
                     {target}, 'p', 'c')"
                )
            };
            let config = format!(
                "INSERT INTO config_documents (owner_id, product_id, level, revision, document, \
                 updated_at) VALUES ('p', 'p', 'product', 1, '{{}}', '{at}')"
            );
            let changes = [
                // Nothing cached a new device's context yet.
                (device("d1"), false),
                (details("d1"), false),
                (device("d2"), false),
                (details("d2"), false),
                (status("d1", "NULL"), false),
                (status("d2", "'armv7'"), true),
                // The check-in writer's own writes, target unchanged.
                (
                    format!(
                        "UPDATE device_status SET last_seen_at = '{at}', check_ins = check_ins + 1, \
                         status = '{{}}'"
                    ),
                    false,
                ),
                (
                    "UPDATE device_status SET reported_target = 'armv7'".to_owned(),
                    true,
                ),
                (
                    "UPDATE device_details SET description = 'x', tags = '[\"a:b\"]'".to_owned(),
                    false,
                ),
                (
                    "UPDATE devices SET needs_provisioning = TRUE".to_owned(),
                    false,
                ),
                (
                    "UPDATE devices SET quarantined = TRUE WHERE id = 'd1'".to_owned(),
                    true,
                ),
                (
                    "UPDATE device_details SET target = 'x86' WHERE device_id = 'd1'".to_owned(),
                    true,
                ),
                ("UPDATE devices SET cohort_id = 'c2'".to_owned(), true),
                (
                    "UPDATE device_details SET identifier = 'r' WHERE device_id = 'd2'".to_owned(),
                    true,
                ),
                (
                    "UPDATE products SET name = 'p2' WHERE id = 'p'".to_owned(),
                    true,
                ),
                (
                    "UPDATE cohorts SET name = 'c3' WHERE id = 'c2'".to_owned(),
                    true,
                ),
                (
                    format!(
                        "INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, \
                         rollout_percent, created_at, updated_at) \
                         VALUES ('r', 'o', 'p', 'c2', 'b', 10, '{at}', '{at}')"
                    ),
                    true,
                ),
                ("UPDATE releases SET rollout_percent = 50".to_owned(), true),
                (
                    "UPDATE releases SET rollout_state = 'halted'".to_owned(),
                    true,
                ),
                (
                    format!(
                        "INSERT INTO device_updates (device_id, release_id, state, at) \
                         VALUES ('d1', 'r', 'downloading', '{at}')"
                    ),
                    true,
                ),
                (
                    "UPDATE device_updates SET state = 'succeeded'".to_owned(),
                    true,
                ),
                ("DELETE FROM device_updates".to_owned(), true),
                ("UPDATE bundles SET name = 'b2'".to_owned(), true),
                (config.clone(), true),
                ("UPDATE config_documents SET revision = 2".to_owned(), true),
                ("DELETE FROM config_documents".to_owned(), true),
                ("DELETE FROM releases".to_owned(), true),
                (
                    "UPDATE devices SET product_id = 'q', cohort_id = NULL WHERE id = 'd1'"
                        .to_owned(),
                    true,
                ),
                ("DELETE FROM devices WHERE id = 'd1'".to_owned(), true),
                ("DELETE FROM cohorts WHERE id = 'c'".to_owned(), true),
                ("DELETE FROM bundles".to_owned(), true),
            ];
            let mut before = read(&pool).await.expect("read").offers;
            for (sql, bumps) in changes {
                run(&pool, &sql).await;
                let after = read(&pool).await.expect("read").offers;
                if bumps {
                    assert!(after > before, "{sql} bumps the offers epoch");
                } else {
                    assert_eq!(after, before, "{sql} leaves the offers epoch");
                }
                before = after;
            }
        }
    }

    /// PostgreSQL: the bump's notification is delivered once its transaction commits, and names
    /// the schema.
    #[tokio::test]
    async fn a_committed_bump_notifies_listeners_with_the_schema() {
        for (_guard, pool) in test_pools::all().await {
            let Some((mut listener, schema)) = listen(&pool).await.expect("listen") else {
                continue;
            };
            let at = now().to_rfc3339();
            run(
                &pool,
                &format!(
                    "INSERT INTO organizations (id, name, created_at) VALUES ('o', 'o', '{at}')"
                ),
            )
            .await;
            run(
                &pool,
                &format!(
                    "INSERT INTO api_keys (id, org_id, name, role, hash, created_at) \
                 VALUES ('k', 'o', 'k', 'read', 'hk', '{at}')"
                ),
            )
            .await;
            run(
                &pool,
                &format!("UPDATE api_keys SET revoked_at = '{at}' WHERE id = 'k'"),
            )
            .await;
            let notification =
                tokio::time::timeout(std::time::Duration::from_secs(30), listener.recv())
                    .await
                    .expect("a notification within 30 s")
                    .expect("receive");
            assert_eq!(notification.channel(), CHANNEL);
            assert_eq!(notification.payload(), schema);
        }
    }
}
