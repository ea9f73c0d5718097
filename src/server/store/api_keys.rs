//! API keys: looked up by the SHA-256 of the presented key; the key itself is never stored.

use chrono::{DateTime, Utc};

use super::Pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub role: String,
    pub hash: String,
}

pub async fn find_by_hash(pool: &Pool, hash: &str) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as("SELECT id, org_id, name, role, hash FROM api_keys WHERE hash = $1")
        .bind(hash)
        .fetch_optional(pool)
        .await
}

pub async fn touch(pool: &Pool, id: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
