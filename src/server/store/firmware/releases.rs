//! Releases: a cohort pointed at a bundle, with rollout settings; each cohort's releases are its
//! history, newest current.

use chrono::{DateTime, Utc};

use super::super::{Conn, parse_id, query};
use super::Page;
use crate::api::{BundleId, CohortId, OrgId, ProductId, Release, ReleaseId};

const SELECT: &str = "SELECT r.id, r.product_id, p.name AS product, r.cohort_id, c.name AS cohort, \
     r.bundle_id, bn.name AS bundle, r.rollout_percent, r.required, r.previous_release_id, \
     r.created_at, r.updated_at, r.revision FROM releases r \
     JOIN products p ON p.id = r.product_id JOIN cohorts c ON c.id = r.cohort_id \
     JOIN bundles bn ON bn.id = r.bundle_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    product_id: String,
    product: String,
    cohort_id: String,
    cohort: String,
    bundle_id: String,
    bundle: String,
    rollout_percent: i64,
    required: bool,
    previous_release_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Release> {
        Ok(Release {
            id: parse_id!(ReleaseId, self.id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            cohort_id: parse_id!(CohortId, self.cohort_id)?,
            cohort: self.cohort,
            bundle_id: parse_id!(BundleId, self.bundle_id)?,
            bundle: self.bundle,
            rollout_percent: u8::try_from(self.rollout_percent).unwrap_or(100),
            required: self.required,
            previous_release_id: self
                .previous_release_id
                .map(|id| parse_id!(ReleaseId, id))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        })
    }
}

pub async fn get(
    conn: &mut Conn,
    product_id: &ProductId,
    id: &str,
) -> sqlx::Result<Option<Release>> {
    let sql = format!("{SELECT} WHERE r.product_id = $1 AND r.id = $2");
    let row: Option<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn list(
    conn: &mut Conn,
    product_id: &ProductId,
    cohort_id: Option<&CohortId>,
    page: &Page<'_>,
) -> sqlx::Result<Vec<Release>> {
    let sql = format!(
        "{SELECT} WHERE r.product_id = $1 AND ($2 = '' OR r.cohort_id = $2) AND r.id > $3 \
         ORDER BY r.id LIMIT $4"
    );
    let rows: Vec<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(cohort_id.map_or("", CohortId::as_str))
        .bind(page.after.unwrap_or(""))
        .bind(i64::from(page.limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Row::into_api).collect()
}

/// The cohort's current (newest) release.
pub async fn latest(conn: &mut Conn, cohort_id: &CohortId) -> sqlx::Result<Option<ReleaseId>> {
    let row: Option<(String,)> =
        query("SELECT id FROM releases WHERE cohort_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(cohort_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(id,)| parse_id!(ReleaseId, id)).transpose()
}

pub struct NewRelease<'a> {
    pub id: &'a ReleaseId,
    pub product_id: &'a ProductId,
    pub cohort_id: &'a CohortId,
    pub bundle_id: &'a BundleId,
    pub rollout_percent: u8,
    pub required: bool,
    pub previous: Option<&'a ReleaseId>,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    new: &NewRelease<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, rollout_percent, \
         required, previous_release_id, created_at, updated_at, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
    )
    .bind(new.id.as_str())
    .bind(org_id.as_str())
    .bind(new.product_id.as_str())
    .bind(new.cohort_id.as_str())
    .bind(new.bundle_id.as_str())
    .bind(i64::from(new.rollout_percent))
    .bind(new.required)
    .bind(new.previous.map(ReleaseId::as_str))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(
    conn: &mut Conn,
    id: &ReleaseId,
    rollout_percent: u8,
    required: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE releases SET rollout_percent = $1, required = $2, updated_at = $3, \
         revision = revision + 1 WHERE id = $4",
    )
    .bind(i64::from(rollout_percent))
    .bind(required)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
