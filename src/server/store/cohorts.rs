//! Cohorts table: reads (with product name and device count), keyset listing, writes.

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query};
use crate::api::{Cohort, CohortId, OrgId, ProductId};

const SELECT: &str = "SELECT c.id, c.product_id, p.name AS product, c.name, c.description, \
     (SELECT COUNT(*) FROM devices d WHERE d.cohort_id = c.id) AS device_count, \
     c.created_at, c.updated_at, c.revision \
     FROM cohorts c JOIN products p ON p.id = c.product_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    product_id: String,
    product: String,
    name: String,
    description: String,
    device_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Cohort> {
        Ok(Cohort {
            id: parse_id!(CohortId, self.id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            name: self.name,
            description: self.description,
            device_count: u64::try_from(self.device_count).unwrap_or(0),
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        })
    }
}

/// A cohort by ID anywhere in the organization (callers check which product it is in).
pub async fn get(conn: &mut Conn, org_id: &OrgId, id: &CohortId) -> sqlx::Result<Option<Cohort>> {
    let sql = format!("{SELECT} WHERE c.org_id = $1 AND c.id = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn get_by_name(
    conn: &mut Conn,
    product_id: &ProductId,
    name: &str,
) -> sqlx::Result<Option<Cohort>> {
    let sql = format!("{SELECT} WHERE c.product_id = $1 AND c.name = $2");
    let row: Option<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub struct ListFilter<'a> {
    pub product_id: Option<&'a ProductId>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// One page, limited to the products a scoped API key sees (`within`; `None`: every product).
pub async fn list_within(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<Vec<Cohort>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE c.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    super::api_keys::push_scope(&mut qb, "c.product_id", within);
    if let Some(product_id) = filter.product_id {
        qb.push(" AND c.product_id = ")
            .push_bind(product_id.as_str().to_owned());
    }
    if let Some(after) = filter.after {
        qb.push(" AND c.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY c.id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &CohortId,
    product_id: &ProductId,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO cohorts (id, org_id, product_id, name, description, created_at, updated_at, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(product_id.as_str())
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes every mutable column and bumps the revision.
pub async fn update(
    conn: &mut Conn,
    id: &CohortId,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE cohorts SET name = $1, description = $2, updated_at = $3, revision = revision + 1 \
         WHERE id = $4",
    )
    .bind(name)
    .bind(description)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the cohort after taking its devices out of it (each such device is a change, so its
/// revision moves too); returns how many devices were released.
pub async fn delete(conn: &mut Conn, id: &CohortId, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let released = query(
        "UPDATE devices SET cohort_id = NULL, updated_at = $1, revision = revision + 1 \
         WHERE cohort_id = $2",
    )
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    query("DELETE FROM cohorts WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(released)
}
