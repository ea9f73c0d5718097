//! Releases: a cohort pointed at a bundle, with rollout settings; each cohort's releases are its
//! history, newest current.

use chrono::{DateTime, Utc};

use super::super::{Conn, parse_id, query};
use super::Page;
use super::rollouts::{COLUMNS, GuardSettings, RolloutRow, schedule_json};
use crate::api::{
    BundleId, CohortId, OrgId, ProductId, Release, ReleaseId, RolloutGuard, RolloutState,
    RolloutStep,
};

fn select() -> String {
    format!(
        "SELECT {COLUMNS}, p.name AS product, r.cohort_id, c.name AS cohort, r.bundle_id, \
         bn.name AS bundle, r.previous_release_id, r.created_at, r.updated_at FROM releases r \
         JOIN products p ON p.id = r.product_id JOIN cohorts c ON c.id = r.cohort_id \
         JOIN bundles bn ON bn.id = r.bundle_id"
    )
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    rollout: RolloutRow,
    product: String,
    cohort_id: String,
    cohort: String,
    bundle_id: String,
    bundle: String,
    previous_release_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Release> {
        let rollout = self.rollout.into_rollout()?;
        let guard = rollout.guard.map(|g| RolloutGuard {
            halt_on_failure_rate: f64::from(g.failure_bp) / 100.0,
            min_reports: g.min_reports,
            final_reports: rollout.final_reports.saturating_sub(rollout.base_final),
            failed_reports: rollout.failed_reports.saturating_sub(rollout.base_failed),
        });
        Ok(Release {
            id: rollout.id,
            product_id: rollout.product_id,
            product: self.product,
            cohort_id: parse_id!(CohortId, self.cohort_id)?,
            cohort: self.cohort,
            bundle_id: parse_id!(BundleId, self.bundle_id)?,
            bundle: self.bundle,
            rollout_percent: rollout.rollout_percent,
            required: rollout.required,
            previous_release_id: self
                .previous_release_id
                .map(|id| parse_id!(ReleaseId, id))
                .transpose()?,
            state: rollout.state,
            current_step: (!rollout.schedule.is_empty()).then_some(rollout.step),
            schedule: rollout.schedule,
            step_applied_at: rollout.step_applied_at,
            next_step_at: rollout.next_step_at,
            guard,
            final_reports: rollout.final_reports,
            failed_reports: rollout.failed_reports,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: rollout.revision,
        })
    }
}

pub async fn get(
    conn: &mut Conn,
    product_id: &ProductId,
    id: &str,
) -> sqlx::Result<Option<Release>> {
    let sql = format!("{} WHERE r.product_id = $1 AND r.id = $2", select());
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
        "{} WHERE r.product_id = $1 AND ($2 = '' OR r.cohort_id = $2) AND r.id > $3 \
         ORDER BY r.id LIMIT $4",
        select()
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
    pub schedule: &'a [RolloutStep],
    /// 1 with a schedule, else 0.
    pub step: u32,
    pub state: RolloutState,
    pub next_step_at: Option<DateTime<Utc>>,
    pub guard: Option<GuardSettings>,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    new: &NewRelease<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, rollout_percent, \
         required, previous_release_id, created_at, updated_at, revision, schedule, \
         rollout_step, rollout_state, step_applied_at, next_step_at, halt_failure_bp, \
         min_reports) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, $10, $11, $12, $9, $13, $14, $15)",
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
    .bind(schedule_json(new.schedule))
    .bind(i64::from(new.step))
    .bind(new.state.as_str())
    .bind(new.next_step_at)
    .bind(new.guard.map(|g| i64::from(g.failure_bp)))
    .bind(new.guard.map(|g| super::to_i64(g.min_reports)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
