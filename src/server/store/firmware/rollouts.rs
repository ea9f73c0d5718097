//! A release's rollout as the controller and the guard see it (schedule, step, state, guard
//! settings, final-report counts), its one writer with a revision check, the scan for steps
//! that are due, and the counts a final report adds.

use chrono::{DateTime, Utc};

use super::super::{Conn, corrupt, parse_id, query};
use super::{to_i64, to_u64};
use crate::api::{OrgId, ProductId, ReleaseId, RolloutState, RolloutStep};

/// The guard's settings: halt above `failure_bp` hundredths of a percent of failures, once
/// `min_reports` devices reported a final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    pub failure_bp: u32,
    pub min_reports: u64,
}

/// Everything about a release's rollout that changes over its life.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub id: ReleaseId,
    pub org_id: OrgId,
    pub product_id: ProductId,
    pub rollout_percent: u8,
    pub required: bool,
    pub schedule: Vec<RolloutStep>,
    /// The step applied last, from 1; 0 without a schedule.
    pub step: u32,
    pub state: RolloutState,
    pub step_applied_at: DateTime<Utc>,
    pub next_step_at: Option<DateTime<Utc>>,
    pub guard: Option<GuardSettings>,
    pub final_reports: u64,
    pub failed_reports: u64,
    /// The counts when the guard last started counting.
    pub base_final: u64,
    pub base_failed: u64,
    pub revision: i64,
}

pub(crate) const COLUMNS: &str = "r.id, r.org_id, r.product_id, r.rollout_percent, r.required, \
     r.schedule, r.rollout_step, r.rollout_state, \
     COALESCE(r.step_applied_at, r.created_at) AS step_applied_at, r.next_step_at, \
     r.halt_failure_bp, r.min_reports, r.final_reports, r.failed_reports, r.guard_base_final, \
     r.guard_base_failed, r.revision";

#[derive(sqlx::FromRow)]
pub(crate) struct RolloutRow {
    id: String,
    org_id: String,
    product_id: String,
    rollout_percent: i64,
    required: bool,
    schedule: Option<String>,
    rollout_step: i64,
    rollout_state: String,
    step_applied_at: DateTime<Utc>,
    next_step_at: Option<DateTime<Utc>>,
    halt_failure_bp: Option<i64>,
    min_reports: Option<i64>,
    final_reports: i64,
    failed_reports: i64,
    guard_base_final: i64,
    guard_base_failed: i64,
    revision: i64,
}

impl RolloutRow {
    pub(crate) fn into_rollout(self) -> sqlx::Result<Rollout> {
        let schedule = match &self.schedule {
            Some(json) => serde_json::from_str(json).map_err(|_| corrupt("schedule", json))?,
            None => Vec::new(),
        };
        let state = RolloutState::parse(&self.rollout_state)
            .ok_or_else(|| corrupt("rollout state", &self.rollout_state))?;
        let guard = self.halt_failure_bp.map(|bp| GuardSettings {
            failure_bp: u32::try_from(bp).unwrap_or(10_000),
            min_reports: to_u64(self.min_reports.unwrap_or(1)),
        });
        Ok(Rollout {
            id: parse_id!(ReleaseId, self.id)?,
            org_id: parse_id!(OrgId, self.org_id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            rollout_percent: u8::try_from(self.rollout_percent).unwrap_or(100),
            required: self.required,
            schedule,
            step: u32::try_from(self.rollout_step).unwrap_or(0),
            state,
            step_applied_at: self.step_applied_at,
            next_step_at: self.next_step_at,
            guard,
            final_reports: to_u64(self.final_reports),
            failed_reports: to_u64(self.failed_reports),
            base_final: to_u64(self.guard_base_final),
            base_failed: to_u64(self.guard_base_failed),
            revision: self.revision,
        })
    }
}

/// The schedule as stored (NULL without one).
pub(crate) fn schedule_json(schedule: &[RolloutStep]) -> Option<String> {
    if schedule.is_empty() {
        None
    } else {
        serde_json::to_string(schedule).ok()
    }
}

/// Release `id`'s rollout.
pub async fn get(conn: &mut Conn, id: &ReleaseId) -> sqlx::Result<Option<Rollout>> {
    let sql = format!("SELECT {COLUMNS} FROM releases r WHERE r.id = $1");
    let row: Option<RolloutRow> = query(&sql)
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(RolloutRow::into_rollout).transpose()
}

/// Releases whose next step's wait has passed at `now` (an index range on `next_step_at`).
pub async fn due(conn: &mut Conn, now: DateTime<Utc>) -> sqlx::Result<Vec<(ReleaseId, i64)>> {
    let rows: Vec<(String, i64)> = query(
        "SELECT id, revision FROM releases WHERE next_step_at IS NOT NULL AND next_step_at <= $1 \
         ORDER BY next_step_at, id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, revision)| Ok((parse_id!(ReleaseId, id)?, revision)))
        .collect()
}

/// Writes `new` over the release if it is still at `expected_revision`; `false` when another
/// writer changed it first (nothing is written then).
pub async fn apply(
    conn: &mut Conn,
    new: &Rollout,
    expected_revision: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = query(
        "UPDATE releases SET rollout_percent = $1, required = $2, schedule = $3, \
         rollout_step = $4, rollout_state = $5, step_applied_at = $6, next_step_at = $7, \
         halt_failure_bp = $8, min_reports = $9, guard_base_final = $10, \
         guard_base_failed = $11, updated_at = $12, revision = revision + 1 \
         WHERE id = $13 AND revision = $14",
    )
    .bind(i64::from(new.rollout_percent))
    .bind(new.required)
    .bind(schedule_json(&new.schedule))
    .bind(i64::from(new.step))
    .bind(new.state.as_str())
    .bind(new.step_applied_at)
    .bind(new.next_step_at)
    .bind(new.guard.map(|g| i64::from(g.failure_bp)))
    .bind(new.guard.map(|g| to_i64(g.min_reports)))
    .bind(to_i64(new.base_final))
    .bind(to_i64(new.base_failed))
    .bind(now)
    .bind(new.id.as_str())
    .bind(expected_revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The final states (`succeeded`, `failed`, `rolled_back`) the device reported for the
/// release other than `except`.
pub async fn other_final_states(
    conn: &mut Conn,
    device_id: &str,
    release_id: &ReleaseId,
    except: &str,
) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = query(
        "SELECT state FROM update_reports WHERE device_id = $1 AND release_id = $2 \
         AND state IN ('succeeded', 'failed', 'rolled_back') AND state <> $3",
    )
    .bind(device_id)
    .bind(release_id.as_str())
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Adds to the release's final-report counts (neither its revision nor `updated_at` move: a
/// report is not a change to the release).
pub async fn add_counts(
    conn: &mut Conn,
    release_id: &ReleaseId,
    final_delta: i64,
    failed_delta: i64,
) -> sqlx::Result<()> {
    query(
        "UPDATE releases SET final_reports = final_reports + $1, \
         failed_reports = failed_reports + $2 WHERE id = $3",
    )
    .bind(final_delta)
    .bind(failed_delta)
    .bind(release_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
