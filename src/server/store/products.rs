//! Products table: reads (with their device counts), keyset listing, writes.

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, push_tag_filter, query, tags_from_text, tags_to_text};
use crate::api::{OrgId, Product, ProductId, ProductState};

/// The device count comes from the per-cohort summaries the triggers of migration 0013 keep
/// exact: counting the devices themselves made every request that names a product scan the
/// product's devices (30 ms at 100,000, growing with the fleet).
const SELECT: &str = "SELECT p.id, p.name, p.description, p.tags, p.archived, \
     (SELECT CAST(COALESCE(SUM(c.devices), 0) AS BIGINT) FROM device_counts c \
      WHERE c.product_id = p.id) AS device_count, \
     p.created_at, p.updated_at, p.revision \
     FROM products p";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    description: String,
    tags: String,
    archived: bool,
    device_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Product> {
        Ok(Product {
            id: parse_id!(ProductId, self.id)?,
            name: self.name,
            description: self.description,
            tags: tags_from_text(&self.tags)?,
            archived: self.archived,
            device_count: u64::try_from(self.device_count).unwrap_or(0),
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        })
    }
}

/// Looks a product up by ID when `reference` is ID-shaped, else by name.
pub async fn resolve(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<Product>> {
    let by = if ProductId::parse(reference).is_some() {
        "id"
    } else {
        "name"
    };
    let sql = format!("{SELECT} WHERE p.org_id = $1 AND p.{by} = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn name_taken(conn: &mut Conn, org_id: &OrgId, name: &str) -> sqlx::Result<bool> {
    let row: Option<(String,)> = query("SELECT id FROM products WHERE org_id = $1 AND name = $2")
        .bind(org_id.as_str())
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

pub struct ListFilter<'a> {
    pub state: ProductState,
    pub tags: &'a [String],
    /// Keyset position: only products with a larger ID.
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// One page, limited to the products a scoped API key sees (`within`; `None`: every product).
pub async fn list_within(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<Vec<Product>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE p.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    super::api_keys::push_scope(&mut qb, "p.id", within);
    match filter.state {
        ProductState::Active => {
            qb.push(" AND p.archived = FALSE");
        }
        ProductState::Archived => {
            qb.push(" AND p.archived = TRUE");
        }
        ProductState::All => {}
    }
    push_tag_filter(&mut qb, conn.backend(), "p.tags", filter.tags);
    if let Some(after) = filter.after {
        qb.push(" AND p.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY p.id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}

/// The columns a create or update writes.
pub struct Fields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
    pub archived: bool,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &ProductId,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO products (id, org_id, name, description, tags, archived, created_at, updated_at, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(fields.name)
    .bind(fields.description)
    .bind(tags_to_text(fields.tags))
    .bind(fields.archived)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes every mutable column and bumps the revision.
pub async fn update(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &ProductId,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE products SET name = $1, description = $2, tags = $3, archived = $4, \
         updated_at = $5, revision = revision + 1 WHERE org_id = $6 AND id = $7",
    )
    .bind(fields.name)
    .bind(fields.description)
    .bind(tags_to_text(fields.tags))
    .bind(fields.archived)
    .bind(now)
    .bind(org_id.as_str())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the product and its cohorts. The caller has checked that no device remains; the
/// devices' foreign key refuses the delete should one slip in.
pub async fn delete(conn: &mut Conn, org_id: &OrgId, id: &ProductId) -> sqlx::Result<()> {
    query("DELETE FROM cohorts WHERE product_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM products WHERE org_id = $1 AND id = $2")
        .bind(org_id.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
