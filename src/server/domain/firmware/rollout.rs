//! Rollout control: a release's schedule advances by itself, and its guard halts it, at the
//! time the caller's clock gives.
//!
//! - A schedule's first step applies when the release is made (or its schedule replaced); each
//!   later step applies once its wait, counted from when the previous step applied, has passed
//!   and the guard holds (the release is not halted). One evaluation takes at most one step, so
//!   every wait is served in full even after the service was down.
//! - The guard counts devices, not reports: a device's outcome for the release is a failure
//!   when it reported `failed` or `rolled_back` and never `succeeded` (a required release is
//!   offered again after a failure, and a later success counts as a success). It halts the
//!   release when more than `halt_on_failure_rate` percent of the devices with an outcome
//!   failed, once there are at least `min_reports` of them; with fewer it cannot judge and does
//!   not hold a step back. The counts are kept in the transaction of each final report, which
//!   also checks the guard, so a bad release halts on the report that crosses the line.
//! - A halted release is offered to no device that has not started it; devices that reported
//!   `downloading` or `installing` may finish. Resuming starts the guard's count afresh (the
//!   failures that halted it do not halt it again at once) and the next step's wait over.
//! - Several replicas may evaluate at once: the decision and the change are made in one write
//!   transaction that re-reads the release and writes only at the revision it read, so a step
//!   is taken, and a halt recorded, once.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::releases::release_or_404;
use crate::api::device_api::UpdateState;
use crate::api::{
    AuditAction, DEFAULT_MIN_REPORTS, Release, ReleaseId, RolloutState, RolloutStep, parse_schedule,
};
use crate::server::auth::Principal;
use crate::server::domain::lookup::product_or_404;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::events::{Actor, AuditEvent};
use crate::server::store::firmware::rollouts::{self, GuardSettings, Rollout};
use crate::server::store::{self, Conn, Pool};

/// What one evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Steps taken.
    pub advanced: u32,
    /// Releases halted by their guard.
    pub halted: u32,
}

/// The guard's figures at a decision: devices with a failed outcome, devices with any
/// outcome, their rate and the threshold (percent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub failed: u64,
    pub total: u64,
    pub rate: f64,
    pub threshold: f64,
}

impl Figures {
    fn json(&self) -> Value {
        json!({
            "failed": self.failed, "total": self.total,
            "rate": (self.rate * 100.0).round() / 100.0, "threshold": self.threshold,
        })
    }
}

/// The guard's count since it last started, and the threshold, when there is a guard.
pub fn figures(rollout: &Rollout) -> Option<(Figures, u64)> {
    let guard = rollout.guard?;
    let total = rollout.final_reports.saturating_sub(rollout.base_final);
    let failed = rollout
        .failed_reports
        .saturating_sub(rollout.base_failed)
        .min(total);
    let rate = if total == 0 {
        0.0
    } else {
        failed as f64 * 100.0 / total as f64
    };
    let figures = Figures {
        failed,
        total,
        rate,
        threshold: f64::from(guard.failure_bp) / 100.0,
    };
    Some((figures, guard.min_reports))
}

/// The figures when the guard says halt: enough outcomes, and more than the threshold failed.
pub fn tripped(rollout: &Rollout) -> Option<Figures> {
    let (figures, min_reports) = figures(rollout)?;
    let bp = u128::from(rollout.guard?.failure_bp);
    let over = u128::from(figures.failed) * 10_000 > bp * u128::from(figures.total);
    (figures.total >= min_reports && over).then_some(figures)
}

/// When the next step's wait has passed; `None` when halted or no step is left.
pub fn next_step_at(rollout: &Rollout) -> Option<DateTime<Utc>> {
    if rollout.state == RolloutState::Halted {
        return None;
    }
    let next = rollout.schedule.get(usize::try_from(rollout.step).ok()?)?;
    let wait = TimeDelta::seconds(i64::try_from(next.after_s).unwrap_or(i64::MAX / 1000));
    rollout.step_applied_at.checked_add_signed(wait)
}

/// The state of a release that is not halted: completed once its schedule took its last step.
pub fn running_state(schedule: &[RolloutStep], step: u32) -> RolloutState {
    if !schedule.is_empty() && usize::try_from(step).is_ok_and(|s| s >= schedule.len()) {
        RolloutState::Completed
    } else {
        RolloutState::Active
    }
}

/// The rollout inputs of a create or update body, checked: the schedule, and the guard as it
/// will be (a rate alone keeps or defaults the minimum; a minimum alone needs a guard).
pub struct Inputs {
    pub schedule: Option<Vec<RolloutStep>>,
    pub guard: Option<GuardSettings>,
}

pub fn inputs(
    schedule: Option<&str>,
    rate: Option<f64>,
    min_reports: Option<u64>,
    percent_given: bool,
    current: Option<GuardSettings>,
) -> ApiResult<Inputs> {
    let mut v = crate::server::domain::Validator::default();
    let schedule = match schedule.map(parse_schedule) {
        Some(Ok(steps)) => Some(steps),
        Some(Err(message)) => {
            v.check("schedule", Err(message));
            None
        }
        None => None,
    };
    if schedule.is_some() && percent_given {
        v.check(
            "schedule",
            Err(
                "give a schedule or rollout_percent, not both: the schedule's first step is \
                 the rollout percentage"
                    .into(),
            ),
        );
    }
    let failure_bp = match rate {
        Some(rate) if rate.is_finite() && (0.0..=100.0).contains(&rate) => {
            // Hundredths of a percent: `2.5` is 250.
            Some((rate * 100.0).round() as u32)
        }
        Some(rate) => {
            v.check(
                "halt_on_failure_rate",
                Err(format!("must be a percentage from 0 to 100, got {rate}")),
            );
            None
        }
        None => None,
    };
    if min_reports == Some(0) {
        v.check(
            "min_reports",
            Err("must be at least 1: the guard needs reports to judge".into()),
        );
    }
    if min_reports.is_some() && rate.is_none() && current.is_none() {
        v.check(
            "min_reports",
            Err("the minimum sample belongs to a guard: give halt_on_failure_rate too".into()),
        );
    }
    v.finish()?;
    let guard = match (failure_bp, current) {
        (Some(failure_bp), current) => Some(GuardSettings {
            failure_bp,
            min_reports: min_reports
                .or(current.map(|g| g.min_reports))
                .unwrap_or(DEFAULT_MIN_REPORTS),
        }),
        (None, Some(current)) => Some(GuardSettings {
            min_reports: min_reports.unwrap_or(current.min_reports),
            ..current
        }),
        (None, None) => None,
    };
    Ok(Inputs { schedule, guard })
}

fn system_event(rollout: &Rollout, action: AuditAction, details: Value) -> AuditEvent<'_> {
    AuditEvent::new(&rollout.org_id, Actor::default(), action, details)
        .resource(rollout.id.as_str())
        .product(Some(&rollout.product_id))
}

/// Halts `rollout` for its guard inside the caller's transaction; `false` when another writer
/// changed the release first.
async fn halt_for_guard(
    conn: &mut Conn,
    rollout: &Rollout,
    figures: Figures,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let mut halted = rollout.clone();
    halted.state = RolloutState::Halted;
    halted.next_step_at = None;
    if !rollouts::apply(conn, &halted, rollout.revision, now).await? {
        return Ok(false);
    }
    let mut details = figures.json();
    details["by"] = json!("guard");
    details["rollout_percent"] = json!(rollout.rollout_percent);
    system_event(rollout, AuditAction::ReleaseHalted, details)
        .record(conn)
        .await?;
    tracing::warn!(release = %rollout.id, failed = figures.failed, total = figures.total,
        threshold = figures.threshold, "release halted by its guard");
    Ok(true)
}

/// Counts a device's final report for the release (call it when the report was newly added)
/// and halts the release when its guard trips, in the report's transaction.
pub async fn count_final_report(
    conn: &mut Conn,
    release_id: &ReleaseId,
    device_id: &str,
    state: UpdateState,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if !state.is_final() {
        return Ok(());
    }
    let others = rollouts::other_final_states(conn, device_id, release_id, state.as_str()).await?;
    let (final_delta, failed_delta) = match (state, others.is_empty()) {
        (UpdateState::Succeeded, true) => (1, 0),
        // Its earlier failure becomes a success.
        (UpdateState::Succeeded, false) => (0, -1),
        (_, true) => (1, 1),
        // Already counted, as a failure or a success.
        (_, false) => (0, 0),
    };
    if (final_delta, failed_delta) == (0, 0) {
        return Ok(());
    }
    rollouts::add_counts(conn, release_id, final_delta, failed_delta).await?;
    let Some(rollout) = rollouts::get(conn, release_id).await? else {
        return Ok(());
    };
    if rollout.state != RolloutState::Halted {
        if let Some(figures) = tripped(&rollout) {
            halt_for_guard(conn, &rollout, figures, now).await?;
        }
    }
    Ok(())
}

/// One evaluation at `now`: every release whose next step is due takes it, or is halted when
/// its guard trips. Safe to run on several replicas at once.
pub async fn evaluate(pool: &Pool, now: DateTime<Utc>) -> ApiResult<Evaluation> {
    let due = {
        let mut conn = pool.acquire().await?;
        rollouts::due(&mut conn, now).await?
    };
    let mut done = Evaluation::default();
    for (id, revision) in due {
        let mut tx = store::begin_write(pool).await?;
        let Some(rollout) = rollouts::get(&mut tx, &id).await? else {
            continue;
        };
        // Changed since the scan (another replica took the step, or a person acted): the
        // next evaluation looks again.
        if rollout.revision != revision || next_step_at(&rollout).is_none_or(|at| at > now) {
            continue;
        }
        if let Some(figures) = tripped(&rollout) {
            if halt_for_guard(&mut tx, &rollout, figures, now).await? {
                tx.commit().await?;
                done.halted += 1;
            }
            continue;
        }
        if take_step(&mut tx, &rollout, now).await? {
            tx.commit().await?;
            done.advanced += 1;
        }
    }
    Ok(done)
}

async fn take_step(conn: &mut Conn, rollout: &Rollout, now: DateTime<Utc>) -> ApiResult<bool> {
    let Some(step) = usize::try_from(rollout.step)
        .ok()
        .and_then(|s| rollout.schedule.get(s))
    else {
        return Ok(false);
    };
    let mut next = rollout.clone();
    next.step += 1;
    next.rollout_percent = step.percent.max(rollout.rollout_percent);
    next.step_applied_at = now;
    next.state = running_state(&next.schedule, next.step);
    next.next_step_at = next_step_at(&next);
    if !rollouts::apply(conn, &next, rollout.revision, now).await? {
        return Ok(false);
    }
    let mut details = json!({
        "from_percent": rollout.rollout_percent, "to_percent": next.rollout_percent,
        "step": next.step, "steps": next.schedule.len(), "by": "schedule",
    });
    if let Some((figures, _)) = figures(rollout) {
        details["guard"] = figures.json();
    }
    system_event(rollout, AuditAction::ReleaseAdvanced, details)
        .record(conn)
        .await?;
    Ok(true)
}

/// What a person does to a rollout.
#[derive(Debug, Clone, Copy)]
pub enum Command {
    Halt,
    Resume,
    /// The next step now, or this percentage.
    Promote(Option<u8>),
}

/// Halts, resumes or promotes release `release` of `product` for `principal` at `now`.
/// Halting a halted release and resuming one that is not halted change nothing.
pub async fn command(
    pool: &Pool,
    principal: &Principal,
    (product, release): (&str, &str),
    command: Command,
    now: DateTime<Utc>,
) -> ApiResult<Release> {
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, product).await?;
    let current = release_or_404(&mut tx, &product, release).await?;
    let rollout = rollouts::get(&mut tx, &current.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no release `{release}`")))?;
    let Some((next, action, mut details)) = decide(&rollout, command, now)? else {
        return Ok(current);
    };
    if !rollouts::apply(&mut tx, &next, rollout.revision, now).await? {
        return Err(ApiError::conflict(format!(
            "release {} changed while this request ran",
            rollout.id
        ))
        .with_hint("try again"));
    }
    if let Some((figures, _)) = figures(&rollout) {
        details["guard"] = figures.json();
    }
    details["by"] = json!("person");
    AuditEvent::new(&principal.org_id, principal.actor(), action, details)
        .resource(rollout.id.as_str())
        .product(Some(&rollout.product_id))
        .record(&mut tx)
        .await?;
    let release = release_or_404(&mut tx, &product, rollout.id.as_str()).await?;
    tx.commit().await?;
    Ok(release)
}

type Decision = Option<(Rollout, AuditAction, Value)>;

fn decide(rollout: &Rollout, command: Command, now: DateTime<Utc>) -> ApiResult<Decision> {
    let mut next = rollout.clone();
    let halted = rollout.state == RolloutState::Halted;
    match command {
        Command::Halt if halted => Ok(None),
        Command::Halt => {
            next.state = RolloutState::Halted;
            next.next_step_at = None;
            let details = json!({"rollout_percent": rollout.rollout_percent});
            Ok(Some((next, AuditAction::ReleaseHalted, details)))
        }
        Command::Resume if !halted => Ok(None),
        Command::Resume => {
            next.state = running_state(&next.schedule, next.step);
            next.step_applied_at = now;
            next.base_final = rollout.final_reports;
            next.base_failed = rollout.failed_reports;
            next.next_step_at = next_step_at(&next);
            let details = json!({"rollout_percent": rollout.rollout_percent});
            Ok(Some((next, AuditAction::ReleaseResumed, details)))
        }
        Command::Promote(_) if halted => Err(ApiError::conflict(format!(
            "release {} is halted: it cannot be promoted",
            rollout.id
        ))
        .with_hint(format!(
            "resume it first with `fleet release resume {}`",
            rollout.id
        ))),
        Command::Promote(to) => {
            let target = match to {
                Some(percent) if percent == 0 || percent > 100 => {
                    return Err(ApiError::invalid_field(
                        "to_percent",
                        format!("must be 1–100, got {percent}"),
                    ));
                }
                Some(percent) if percent <= rollout.rollout_percent => {
                    return Err(ApiError::conflict(format!(
                        "release {} is already at {}%: promote only raises the rollout",
                        rollout.id, rollout.rollout_percent
                    ))
                    .with_hint("to lower it, use `fleet release update REL --rollout PERCENT`"));
                }
                Some(percent) => percent,
                None => {
                    let step = usize::try_from(rollout.step)
                        .ok()
                        .and_then(|s| rollout.schedule.get(s));
                    match step {
                        Some(step) => step.percent,
                        None if rollout.schedule.is_empty() => {
                            return Err(ApiError::invalid_field(
                                "to_percent",
                                format!(
                                    "release {} has no schedule: say which percentage to go to",
                                    rollout.id
                                ),
                            ));
                        }
                        None => {
                            return Err(ApiError::conflict(format!(
                                "release {} already took the last step of its schedule ({}%)",
                                rollout.id, rollout.rollout_percent
                            )));
                        }
                    }
                }
            };
            next.rollout_percent = target;
            let reached = rollout
                .schedule
                .iter()
                .filter(|s| s.percent <= target)
                .count();
            next.step = u32::try_from(reached).unwrap_or(u32::MAX).max(rollout.step);
            next.step_applied_at = now;
            next.state = running_state(&next.schedule, next.step);
            next.next_step_at = next_step_at(&next);
            let details = json!({
                "from_percent": rollout.rollout_percent, "to_percent": target,
                "step": (!next.schedule.is_empty()).then_some(next.step),
            });
            Ok(Some((next, AuditAction::ReleasePromoted, details)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{OrgId, ProductId};

    fn at(hours: i64) -> DateTime<Utc> {
        "2030-01-01T00:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time")
            + TimeDelta::hours(hours)
    }

    fn rollout(schedule: &str) -> Rollout {
        let schedule = parse_schedule(schedule).expect("schedule");
        let mut r = Rollout {
            id: ReleaseId::generate(),
            org_id: OrgId::generate(),
            product_id: ProductId::generate(),
            rollout_percent: schedule[0].percent,
            required: false,
            step: 1,
            state: running_state(&schedule, 1),
            schedule,
            step_applied_at: at(0),
            next_step_at: None,
            guard: Some(GuardSettings {
                failure_bp: 500,
                min_reports: 20,
            }),
            final_reports: 0,
            failed_reports: 0,
            base_final: 0,
            base_failed: 0,
            revision: 1,
        };
        r.next_step_at = next_step_at(&r);
        r
    }

    #[test]
    fn the_next_step_is_due_its_wait_after_the_previous_one_applied() {
        let r = rollout("1%,10%@1h,100%@24h");
        assert_eq!(r.next_step_at, Some(at(1)));
        let mut halted = r.clone();
        halted.state = RolloutState::Halted;
        assert_eq!(next_step_at(&halted), None);
        let mut last = r.clone();
        last.step = 3;
        assert_eq!(next_step_at(&last), None);
        assert_eq!(running_state(&last.schedule, 3), RolloutState::Completed);
    }

    #[test]
    fn the_guard_needs_its_sample_and_more_than_the_threshold() {
        let mut r = rollout("10%,100%@1h");
        (r.final_reports, r.failed_reports) = (19, 10);
        assert_eq!(tripped(&r), None, "19 < 20 reports");
        (r.final_reports, r.failed_reports) = (20, 1);
        assert_eq!(tripped(&r), None, "5% is not above 5%");
        (r.final_reports, r.failed_reports) = (20, 2);
        let figures = tripped(&r).expect("10% > 5%");
        assert_eq!((figures.failed, figures.total), (2, 20));
        assert_eq!(figures.threshold, 5.0);
        // After a resume the count starts over.
        (r.base_final, r.base_failed) = (20, 2);
        (r.final_reports, r.failed_reports) = (30, 3);
        assert_eq!(tripped(&r), None, "10 new reports are too few");
    }

    #[test]
    fn promote_takes_the_next_step_or_jumps_and_continues_above() {
        let r = rollout("1%,10%@1h,50%@6h,100%@24h");
        let (next, action, _) = decide(&r, Command::Promote(None), at(0))
            .expect("ok")
            .expect("a change");
        assert_eq!(action, AuditAction::ReleasePromoted);
        assert_eq!((next.rollout_percent, next.step), (10, 2));
        assert_eq!(next.next_step_at, Some(at(6)));
        let (jumped, _, _) = decide(&r, Command::Promote(Some(60)), at(2))
            .expect("ok")
            .expect("a change");
        assert_eq!((jumped.rollout_percent, jumped.step), (60, 3));
        assert_eq!(jumped.next_step_at, Some(at(26)), "100% a day later");
        assert!(decide(&r, Command::Promote(Some(1)), at(0)).is_err());
        let mut halted = r.clone();
        halted.state = RolloutState::Halted;
        assert!(decide(&halted, Command::Promote(None), at(0)).is_err());
        assert!(decide(&halted, Command::Halt, at(0)).expect("ok").is_none());
        assert!(decide(&r, Command::Resume, at(0)).expect("ok").is_none());
    }
}
