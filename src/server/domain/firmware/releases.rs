//! Releases: a cohort pointed at a bundle of the cohort's own product (the seed's guard
//! against incompatible firmware), with rollout percentage (or a schedule, see [`super::rollout`]),
//! a guard and `required`.

use chrono::{DateTime, Duration as TimeDelta, Utc};

use super::bundles::bundle_or_404;
use super::{check_active, rollout};
use crate::api::{
    AuditAction, BundleId, CohortId, CreateRelease, Page, Product, Release, ReleaseId,
    RolloutState, UpdateRelease, format_schedule,
};
use crate::server::auth::Principal;
use crate::server::domain::lookup::{find_cohort, product_or_404};
use crate::server::domain::{audit, check_revision};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn, Pool};

fn check_percent(value: Option<u8>) -> ApiResult<()> {
    match value {
        Some(p) if p > 100 => Err(ApiError::invalid_field(
            "rollout_percent",
            format!("rollout_percent must be 0–100, got {p}"),
        )),
        _ => Ok(()),
    }
}

async fn cohort_id(
    conn: &mut Conn,
    principal: &Principal,
    product: &Product,
    reference: &str,
) -> ApiResult<CohortId> {
    find_cohort(conn, &principal.org_id, product, reference)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no cohort `{reference}`",
                product.name
            ))
        })
}

pub(crate) async fn release_or_404(
    conn: &mut Conn,
    product: &Product,
    reference: &str,
) -> ApiResult<Release> {
    let missing = || {
        ApiError::not_found(format!(
            "product `{}` has no release `{reference}`",
            product.name
        ))
    };
    if ReleaseId::parse(reference).is_none() {
        return Err(missing());
    }
    fw::releases::get(conn, &product.id, reference)
        .await?
        .ok_or_else(missing)
}

/// One page of a product's releases (of one cohort, name or ID, when given), oldest first.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    cohort: Option<&str>,
    (limit, cursor): (Option<u32>, Option<&str>),
) -> ApiResult<Page<Release>> {
    let page = PageRequest::new(limit, cursor, ReleaseId::parse)?;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let cohort = match cohort {
        Some(reference) => Some(cohort_id(&mut conn, principal, &product, reference).await?),
        None => None,
    };
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::releases::list(&mut conn, &product.id, cohort.as_ref(), &bounds).await?;
    Ok(page.finish(rows, |r| r.id.as_str()))
}

/// The release `release` (an ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    release: &str,
) -> ApiResult<Release> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    release_or_404(&mut conn, &product, release).await
}

/// Releases a bundle to a cohort of `product` (not archived) at `now`. The bundle must be of
/// the cohort's product (409 otherwise); with the product's `require_signed_firmware`, every
/// binary in it must be signed (409). A schedule's first step applies now.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateRelease,
    now: DateTime<Utc>,
) -> ApiResult<Release> {
    check_percent(body.rollout_percent)?;
    let inputs = rollout::inputs(
        body.schedule.as_deref(),
        body.halt_on_failure_rate,
        body.min_reports,
        body.rollout_percent.is_some(),
        None,
    )?;
    let schedule = inputs.schedule.unwrap_or_default();
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    let cohort = cohort_id(&mut tx, principal, &product, &body.cohort).await?;
    if let Some(id) = BundleId::parse(&body.bundle) {
        let other = fw::bundles::product_of(&mut tx, org, &id).await?;
        if let Some((other_id, other_name)) = other.filter(|(p, _)| *p != product.id) {
            if principal.sees(&other_id) {
                return Err(ApiError::conflict(format!(
                    "bundle {id} is firmware of product `{other_name}`, not `{}`: a release may \
                     only use firmware of the cohort's own product",
                    product.name
                ))
                .with_hint(format!(
                    "create a bundle of `{}`'s binaries with `fleet bundle create`",
                    product.name
                )));
            }
        }
    }
    let bundle = bundle_or_404(&mut tx, &product, &body.bundle).await?;
    if fw::requires_signed(&mut tx, &product.id).await? {
        let unsigned: Vec<String> = bundle
            .binaries
            .iter()
            .filter(|b| b.signatures == 0)
            .map(|b| {
                format!(
                    "{} {} {} ({})",
                    b.artifact, b.version, b.target, b.binary_id
                )
            })
            .collect();
        if !unsigned.is_empty() {
            return Err(ApiError::conflict(format!(
                "product `{}` requires signed firmware, and bundle `{}` has unsigned binaries: {}",
                product.name,
                bundle.name,
                unsigned.join(", ")
            ))
            .with_hint("sign them with `fleet firmware push … --sign-key KEYFILE`"));
        }
    }
    let id = ReleaseId::generate();
    let previous = fw::releases::latest(&mut tx, &cohort).await?;
    let step = u32::from(!schedule.is_empty());
    let state = rollout::running_state(&schedule, step);
    let rollout_percent = schedule
        .first()
        .map_or(body.rollout_percent.unwrap_or(100), |s| s.percent);
    let next_step_at = match (state, schedule.get(1)) {
        (RolloutState::Active, Some(next)) => now.checked_add_signed(TimeDelta::seconds(
            i64::try_from(next.after_s).unwrap_or(i64::MAX / 1000),
        )),
        _ => None,
    };
    let new = fw::releases::NewRelease {
        id: &id,
        product_id: &product.id,
        cohort_id: &cohort,
        bundle_id: &bundle.id,
        rollout_percent,
        required: body.required.unwrap_or(false),
        previous: previous.as_ref(),
        schedule: &schedule,
        step,
        state,
        next_step_at,
        guard: inputs.guard,
    };
    fw::releases::insert(&mut tx, org, &new, now).await?;
    let release = release_or_404(&mut tx, &product, id.as_str()).await?;
    let mut details = serde_json::json!({
        "cohort": release.cohort, "bundle": release.bundle,
        "rollout_percent": release.rollout_percent, "required": release.required,
    });
    add_rollout_details(&mut details, &release);
    audit::record(
        &mut tx,
        principal,
        AuditAction::ReleaseCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(release)
}

/// The schedule and guard of `release` in an event's details, when it has them.
fn add_rollout_details(details: &mut serde_json::Value, release: &Release) {
    if !release.schedule.is_empty() {
        details["schedule"] = serde_json::json!(format_schedule(&release.schedule));
    }
    if let Some(guard) = &release.guard {
        details["halt_on_failure_rate"] = serde_json::json!(guard.halt_on_failure_rate);
        details["min_reports"] = serde_json::json!(guard.min_reports);
    }
}

/// Changes a release's rollout percentage (which takes it off its schedule), its schedule
/// (which starts over at its first step now), its guard, or `required`, at revision `if_match`
/// (when given).
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    (product, release): (&str, &str),
    if_match: Option<i64>,
    body: UpdateRelease,
    now: DateTime<Utc>,
) -> ApiResult<Release> {
    check_percent(body.rollout_percent)?;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, product).await?;
    let current = release_or_404(&mut tx, &product, release).await?;
    check_revision(
        if_match,
        &format!("release {}", current.id),
        current.revision,
    )?;
    let rollout = fw::rollouts::get(&mut tx, &current.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no release `{release}`")))?;
    let inputs = rollout::inputs(
        body.schedule.as_deref(),
        body.halt_on_failure_rate,
        body.min_reports,
        body.rollout_percent.is_some(),
        rollout.guard,
    )?;
    let mut next = rollout.clone();
    next.required = body.required.unwrap_or(rollout.required);
    next.guard = inputs.guard;
    let halted = rollout.state == RolloutState::Halted;
    if let Some(schedule) = inputs.schedule {
        next.rollout_percent = schedule
            .first()
            .map_or(rollout.rollout_percent, |s| s.percent);
        next.schedule = schedule;
        next.step = 1;
        next.step_applied_at = now;
    } else if let Some(percent) = body.rollout_percent {
        if percent != rollout.rollout_percent || !rollout.schedule.is_empty() {
            next.step_applied_at = now;
        }
        next.rollout_percent = percent;
        next.schedule = Vec::new();
        next.step = 0;
    }
    if !halted {
        next.state = rollout::running_state(&next.schedule, next.step);
    }
    next.next_step_at = rollout::next_step_at(&next);
    if next == rollout {
        return Ok(current);
    }
    if !fw::rollouts::apply(&mut tx, &next, rollout.revision, now).await? {
        return Err(ApiError::conflict(format!(
            "release {} changed while this request ran",
            rollout.id
        ))
        .with_hint("fetch it again and retry"));
    }
    let release = release_or_404(&mut tx, &product, current.id.as_str()).await?;
    let mut details = serde_json::json!({
        "rollout_percent": release.rollout_percent,
        "previous_rollout_percent": current.rollout_percent,
        "required": release.required,
    });
    add_rollout_details(&mut details, &release);
    let (rid, pid) = (release.id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::ReleaseUpdated,
        rid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(release)
}
