//! API keys: looked up by the SHA-256 of the presented key (the key itself is never stored),
//! created with an optional product scope, listed, revoked.

use chrono::{DateTime, Utc};

use super::{Conn, Pool, Query, dialect, parse_id, query};
use crate::api::{ApiKey, ApiKeyId, OrgId, ProductId, Role, ScopedProduct};

/// What authentication needs about a key, in one statement: its scope rides along as a
/// comma-separated list so a request costs one query, not two.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyAuthRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub role: String,
    pub hash: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub scoped: bool,
    /// Product IDs, comma-separated; IDs never contain commas.
    pub scope: Option<String>,
}

pub async fn find_by_hash(pool: &Pool, hash: &str) -> sqlx::Result<Option<KeyAuthRow>> {
    let mut conn = pool.acquire().await?;
    let scope = dialect::comma_list(conn.backend(), "kp.product_id");
    query(format!(
        "SELECT k.id, k.org_id, k.name, k.role, k.hash, k.expires_at, k.revoked_at, k.scoped, \
         (SELECT {scope} FROM api_key_products kp WHERE kp.key_id = k.id) \
         AS scope FROM api_keys k WHERE k.hash = $1",
    ))
    .bind(hash)
    .fetch_optional(&mut conn)
    .await
}

pub async fn touch(pool: &Pool, id: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut pool.acquire_writer().await?)
        .await?;
    Ok(())
}

/// A key to insert; `products: None` is an org-wide key.
pub struct NewKey<'a> {
    pub id: &'a ApiKeyId,
    pub org_id: &'a OrgId,
    pub name: &'a str,
    pub role: Role,
    pub hash: &'a str,
    pub prefix: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<&'a str>,
    pub products: Option<&'a [ProductId]>,
}

pub async fn insert(conn: &mut Conn, key: &NewKey<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    query(
        "INSERT INTO api_keys (id, org_id, name, role, hash, prefix, created_at, expires_at, \
         created_by, scoped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(key.id.as_str())
    .bind(key.org_id.as_str())
    .bind(key.name)
    .bind(key.role.as_str())
    .bind(key.hash)
    .bind(key.prefix)
    .bind(now)
    .bind(key.expires_at)
    .bind(key.created_by)
    .bind(key.products.is_some())
    .execute(&mut *conn)
    .await?;
    for product in key.products.unwrap_or_default() {
        query("INSERT INTO api_key_products (key_id, product_id) VALUES ($1, $2)")
            .bind(key.id.as_str())
            .bind(product.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

const SELECT: &str = "SELECT k.id, k.name, k.role, k.prefix, k.created_at, k.created_by, \
     k.expires_at, k.revoked_at, k.last_used_at, k.scoped FROM api_keys k";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    role: String,
    prefix: Option<String>,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    scoped: bool,
}

impl Row {
    fn into_api(self, products: Option<Vec<ScopedProduct>>) -> sqlx::Result<ApiKey> {
        Ok(ApiKey {
            id: parse_id!(ApiKeyId, self.id)?,
            name: self.name,
            role: Role::parse(&self.role)
                .ok_or_else(|| sqlx::Error::Decode(format!("role `{}`", self.role).into()))?,
            products,
            prefix: self.prefix,
            created_at: self.created_at,
            created_by: self.created_by.and_then(|id| ApiKeyId::parse(&id)),
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
        })
    }
}

/// The scoped products of each key in `ids`, with their names.
async fn scopes(conn: &mut Conn, ids: &[String]) -> sqlx::Result<Vec<(String, ScopedProduct)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = query(
        "SELECT kp.key_id, p.id, p.name FROM api_key_products kp \
         JOIN products p ON p.id = kp.product_id WHERE kp.key_id IN (",
    );
    qb.push_list(ids.iter().cloned());
    qb.push(") ORDER BY p.name");
    let rows: Vec<(String, String, String)> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(key, id, name)| {
            Ok((
                key,
                ScopedProduct {
                    id: parse_id!(ProductId, id)?,
                    name,
                },
            ))
        })
        .collect()
}

async fn into_api(conn: &mut Conn, rows: Vec<Row>) -> sqlx::Result<Vec<ApiKey>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let scopes = scopes(conn, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let products = row.scoped.then(|| {
                scopes
                    .iter()
                    .filter(|(key, _)| *key == row.id)
                    .map(|(_, p)| p.clone())
                    .collect()
            });
            row.into_api(products)
        })
        .collect()
}

pub struct ListFilter<'a> {
    pub include_revoked: bool,
    /// A scoped admin sees only scoped keys whose products are all among these.
    pub within: Option<&'a [ProductId]>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

fn push_within(qb: &mut Query<'_>, within: &[ProductId]) {
    qb.push(
        " AND k.scoped = TRUE AND NOT EXISTS (SELECT 1 FROM api_key_products kp \
         WHERE kp.key_id = k.id",
    );
    if !within.is_empty() {
        qb.push(" AND kp.product_id NOT IN (");
        qb.push_list(within.iter().map(|id| id.as_str().to_owned()));
        qb.push(")");
    }
    qb.push(")");
}

pub async fn list(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<ApiKey>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE k.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    if !filter.include_revoked {
        qb.push(" AND k.revoked_at IS NULL");
    }
    if let Some(within) = filter.within {
        push_within(&mut qb, within);
    }
    if let Some(after) = filter.after {
        qb.push(" AND k.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY k.id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    into_api(conn, rows).await
}

/// Keys matching `reference`: its ID, its prefix (`fleet_…`), or its name (several keys may
/// share a name). Limited to what a scoped admin may see when `within` is set.
pub async fn resolve(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
    within: Option<&[ProductId]>,
) -> sqlx::Result<Vec<ApiKey>> {
    let column = if ApiKeyId::parse(reference).is_some() {
        "k.id"
    } else if reference.starts_with(crate::server::KEY_PREFIX) {
        "k.prefix"
    } else {
        "k.name"
    };
    let mut qb = query(SELECT);
    qb.push(" WHERE k.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    qb.push(format_args!(" AND {column} = "))
        .push_bind(reference.to_owned());
    if let Some(within) = within {
        push_within(&mut qb, within);
    }
    qb.push(" ORDER BY k.id LIMIT 10");
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    into_api(conn, rows).await
}

/// Marks the key revoked now, unless it already is (revoking twice keeps the first time).
pub async fn revoke(conn: &mut Conn, id: &ApiKeyId, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(done > 0)
}

/// The name and ID of every product in `ids` that exists in the organization.
pub async fn scoped_products(
    conn: &mut Conn,
    org_id: &OrgId,
    ids: &[ProductId],
) -> sqlx::Result<Vec<ScopedProduct>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = query("SELECT id, name FROM products WHERE org_id = ");
    qb.push_bind(org_id.as_str().to_owned())
        .push(" AND id IN (");
    qb.push_list(ids.iter().map(|id| id.as_str().to_owned()));
    qb.push(") ORDER BY name");
    let rows: Vec<(String, String)> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(id, name)| {
            Ok(ScopedProduct {
                id: parse_id!(ProductId, id)?,
                name,
            })
        })
        .collect()
}

/// The product a path reference (ID or name) names, as an ID; for scope checks.
pub async fn product_id_of(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<ProductId>> {
    let sql = if ProductId::parse(reference).is_some() {
        "SELECT id FROM products WHERE org_id = $1 AND id = $2"
    } else {
        "SELECT id FROM products WHERE org_id = $1 AND name = $2"
    };
    one_product_id(conn, sql, org_id, reference).await
}

/// The product of the device a path reference (ID or identifier) names; for scope checks.
pub async fn device_product_of(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<ProductId>> {
    let sql = if crate::api::DeviceId::parse(reference).is_some() {
        "SELECT product_id FROM devices WHERE org_id = $1 AND id = $2"
    } else {
        "SELECT product_id FROM device_records WHERE org_id = $1 AND identifier = $2"
    };
    one_product_id(conn, sql, org_id, reference).await
}

/// Runs `sql`, a one-column product ID query bound to `org_id` and `reference`.
async fn one_product_id(
    conn: &mut Conn,
    sql: &'static str,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<ProductId>> {
    let row: Option<(String,)> = query(sql)
        .bind(org_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|(id,)| parse_id!(ProductId, id)).transpose()
}

/// Organization name by ID (for whoami).
pub async fn org_name(conn: &mut Conn, org_id: &OrgId) -> sqlx::Result<String> {
    let (name,): (String,) = query("SELECT name FROM organizations WHERE id = $1")
        .bind(org_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(name)
}

/// Appends `AND <column> IN (<scope>)` for a product-scoped key; nothing for an org-wide one.
/// An empty scope matches nothing.
pub fn push_scope(qb: &mut Query<'_>, column: &str, within: Option<&[ProductId]>) {
    let Some(within) = within else {
        return;
    };
    qb.push(format_args!(" AND {column} IN ("));
    // An empty scope matches nothing: `IN ('')`.
    qb.push_list(
        std::iter::once(String::new()).chain(within.iter().map(|id| id.as_str().to_owned())),
    );
    qb.push(")");
}
