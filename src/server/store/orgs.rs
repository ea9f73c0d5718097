//! Organizations (tenants) and the first-start bootstrap of org `default` with its admin key.

use super::{Pool, begin_write, now, query};
use crate::api::OrgId;

/// Name of the organization created on first start.
pub const DEFAULT_ORG: &str = "default";
/// Name of the API key created on first start.
pub const BOOTSTRAP_KEY_NAME: &str = "admin";

/// On an empty database, creates organization `default` and an `admin` key with `key_hash` (and
/// its display `prefix`), in one transaction; returns false (and writes nothing) when any
/// organization exists already.
pub async fn bootstrap(
    pool: &Pool,
    key_id: &str,
    key_hash: &str,
    prefix: &str,
) -> sqlx::Result<bool> {
    let mut tx = begin_write(pool).await?;
    let (orgs,): (i64,) = query("SELECT COUNT(*) FROM organizations")
        .fetch_one(&mut tx)
        .await?;
    if orgs > 0 {
        return Ok(false);
    }
    let org_id = OrgId::generate();
    let now = now();
    query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(org_id.as_str())
        .bind(DEFAULT_ORG)
        .bind(now)
        .execute(&mut tx)
        .await?;
    query(
        "INSERT INTO api_keys (id, org_id, name, role, hash, prefix, created_at) \
         VALUES ($1, $2, $3, 'admin', $4, $5, $6)",
    )
    .bind(key_id)
    .bind(org_id.as_str())
    .bind(BOOTSTRAP_KEY_NAME)
    .bind(key_hash)
    .bind(prefix)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// `None` also when the stored ID is malformed, which no writer of this service produces.
pub async fn id_by_name(pool: &Pool, name: &str) -> sqlx::Result<Option<OrgId>> {
    let row: Option<(String,)> = query("SELECT id FROM organizations WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut pool.acquire().await?)
        .await?;
    Ok(row.and_then(|(id,)| OrgId::parse(&id)))
}
