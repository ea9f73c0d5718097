//! The API key epoch: one counter in the database that the triggers of migration 0008 bump inside
//! every transaction that can make a cached key less valid. Reading it is one single-row
//! statement; on PostgreSQL the same triggers send `NOTIFY` on [`CHANNEL`] at commit.

use sqlx::postgres::PgListener;

use super::{Pool, query};

/// The PostgreSQL notification channel; its payload is the schema whose epoch moved (channels
/// are per database, and one database may hold several deployments, one per schema).
pub const CHANNEL: &str = "fleet_auth_epoch";

/// The current epoch, as committed.
pub async fn read(pool: &Pool) -> sqlx::Result<i64> {
    let (epoch,): (i64,) = query("SELECT epoch FROM auth_epoch WHERE id = 1")
        .fetch_one(&mut pool.acquire().await?)
        .await?;
    Ok(epoch)
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
    use crate::server::store::{begin_write, now, test_pools};

    async fn run(pool: &Pool, sql: &str) {
        let mut tx = begin_write(pool).await.expect("begin");
        query(sql).execute(&mut tx).await.expect(sql);
        tx.commit().await.expect("commit");
    }

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
            let start = read(&pool).await.expect("read");
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
                assert_eq!(read(&pool).await.expect("read"), expected, "after {sql}");
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
