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
