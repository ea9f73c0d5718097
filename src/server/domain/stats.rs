//! Fleet statistics of a product, a cohort or a release: the scope resolved, then every figure
//! read in one read transaction (one consistent snapshot) relative to one "now", and the
//! grouped rows the store returns shaped into [`Stats`].

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};

use crate::api::device_api::UpdateState;
use crate::api::stats::{
    ArtifactVersions, CHECK_IN_HOURS, CohortCount, Connection, DeviceCounts, FailureReason,
    NO_REASON, ReleaseUpdates, StatsScope, VersionCount,
};
use crate::api::{CohortId, ReleaseId, Stats};
use crate::server::auth::Principal;
use crate::server::domain::cohorts::cohort_or_404;
use crate::server::domain::firmware::releases::release_or_404;
use crate::server::domain::lookup::product_or_404;
use crate::server::error::ApiResult;
use crate::server::store::device_status::hour_of;
use crate::server::store::stats::{self as queries, CohortGroup, Scope, Seen, SeenSince};
use crate::server::store::{self, Conn, Pool};

/// What a stats request asks about: a product (name or ID), and maybe one of its cohorts or
/// releases.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Product(&'a str),
    Cohort(&'a str, &'a str),
    Release(&'a str, &'a str),
}

/// The statistics of `target` now; devices count as online when seen within `online_within`.
pub async fn stats(
    pool: &Pool,
    principal: &Principal,
    target: Target<'_>,
    online_within: Duration,
) -> ApiResult<Stats> {
    stats_at(pool, principal, target, store::now(), online_within).await
}

/// The statistics of `target` at `now`, the one moment every window of the answer is
/// measured from.
pub async fn stats_at(
    pool: &Pool,
    principal: &Principal,
    target: Target<'_>,
    now: DateTime<Utc>,
    online_within: Duration,
) -> ApiResult<Stats> {
    let mut tx = pool.begin().await?;
    let org = &principal.org_id;
    let product_ref = match target {
        Target::Product(p) | Target::Cohort(p, _) | Target::Release(p, _) => p,
    };
    let product = product_or_404(&mut tx, org, product_ref).await?;
    let (cohort, release): (Option<(CohortId, String)>, Option<ReleaseId>) = match target {
        Target::Product(_) => (None, None),
        Target::Cohort(_, cohort) => {
            let cohort = cohort_or_404(&mut tx, org, &product, cohort).await?;
            (Some((cohort.id, cohort.name)), None)
        }
        Target::Release(_, release) => {
            let release = release_or_404(&mut tx, &product, release).await?;
            (Some((release.cohort_id, release.cohort)), Some(release.id))
        }
    };
    let scope = Scope {
        product_id: &product.id,
        cohort_id: cohort.as_ref().map(|(id, _)| id),
    };
    let ago = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    let since = SeenSince {
        online: ago(online_within),
        hour: ago(Duration::from_secs(3600)),
        day: ago(Duration::from_secs(24 * 3600)),
        week: ago(Duration::from_secs(7 * 24 * 3600)),
    };
    let groups = queries::device_groups(&mut tx, scope).await?;
    let cohorts = queries::cohorts(&mut tx, scope).await?;
    let keys: Vec<String> = groups.iter().map(|g| g.cohort_id.clone()).collect();
    let seen = queries::seen(&mut tx, scope, &keys, since).await?;
    let (devices, mut connection) = device_counts(&groups, &cohorts, seen);
    connection.online_within_s = online_within.as_secs();
    let (check_ins_since, per_hour) = check_ins(&mut tx, scope, now).await?;
    connection.check_ins_since = check_ins_since;
    connection.check_ins_per_hour = per_hour;
    let firmware = firmware(&mut tx, scope, devices.total).await?;
    let updates = updates(&mut tx, scope, release.as_ref()).await?;
    let config = match release {
        Some(_) => None,
        None => super::configs::effective::stats(&mut tx, &product.id, scope.cohort_id).await?,
    };
    drop(tx);
    Ok(Stats {
        scope: StatsScope {
            product_id: product.id,
            product: product.name,
            cohort_id: cohort.as_ref().map(|(id, _)| id.clone()),
            cohort: cohort.map(|(_, name)| name),
            release_id: release,
        },
        generated_at: now,
        devices,
        connection,
        firmware,
        updates,
        config,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Sums the per-cohort rows into the scope's device counts, and the connection counts.
fn device_counts(
    groups: &[CohortGroup],
    cohorts: &[(CohortId, String)],
    seen: Seen,
) -> (DeviceCounts, Connection) {
    let in_cohort = |id: &str| {
        groups
            .iter()
            .find(|g| g.cohort_id == id)
            .map_or(0, |g| count(g.devices))
    };
    let total: i64 = groups.iter().map(|g| g.devices).sum();
    let devices = DeviceCounts {
        total: count(total),
        without_cohort: in_cohort(""),
        quarantined: count(groups.iter().map(|g| g.quarantined).sum()),
        needs_provisioning: count(groups.iter().map(|g| g.needs_provisioning).sum()),
        per_cohort: cohorts
            .iter()
            .map(|(id, name)| CohortCount {
                cohort_id: id.clone(),
                cohort: name.clone(),
                devices: in_cohort(id.as_str()),
            })
            .collect(),
    };
    let connection = Connection {
        online: count(seen.online),
        seen_last_hour: count(seen.hour),
        seen_last_24h: count(seen.day),
        seen_last_7d: count(seen.week),
        never_seen: count(total - seen.ever),
        ..Connection::default()
    };
    (devices, connection)
}

/// The start of the first of the last [`CHECK_IN_HOURS`] hours (the current one last), and
/// the check-ins in each.
async fn check_ins(
    conn: &mut Conn,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> ApiResult<(DateTime<Utc>, Vec<u64>)> {
    let hours = i64::try_from(CHECK_IN_HOURS).unwrap_or(24);
    let first = hour_of(now) - (hours - 1);
    let rows = queries::check_ins_by_hour(conn, scope, first).await?;
    let mut per_hour = vec![0; CHECK_IN_HOURS];
    for (hour, n) in rows {
        if let Some(slot) = usize::try_from(hour - first)
            .ok()
            .and_then(|i| per_hour.get_mut(i))
        {
            *slot += count(n);
        }
    }
    let since = Utc
        .timestamp_opt(first * 3600, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    Ok((since, per_hour))
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        // Device counts are far below 2^53: exact as f64.
        part as f64 / whole as f64
    }
}

/// Versions per artifact, artifacts with most devices first.
async fn firmware(
    conn: &mut Conn,
    scope: Scope<'_>,
    total: u64,
) -> ApiResult<Vec<ArtifactVersions>> {
    let rows = queries::versions(conn, scope).await?;
    let mut artifacts: Vec<ArtifactVersions> = Vec::new();
    for row in rows {
        let index = match artifacts.iter().position(|a| a.artifact == row.artifact) {
            Some(i) => i,
            None => {
                artifacts.push(ArtifactVersions {
                    artifact: row.artifact.clone(),
                    versions: Vec::new(),
                    other_versions: 0,
                    unknown: 0,
                });
                artifacts.len() - 1
            }
        };
        let artifact = &mut artifacts[index];
        match row.version {
            Some(version) => artifact.versions.push(VersionCount {
                version,
                devices: count(row.devices),
                share: share(count(row.devices), total),
            }),
            None => artifact.other_versions += count(row.devices),
        }
    }
    for artifact in &mut artifacts {
        artifact.versions.sort_by(|a, b| {
            b.devices
                .cmp(&a.devices)
                .then_with(|| a.version.cmp(&b.version))
        });
        let reporting: u64 =
            artifact.versions.iter().map(|v| v.devices).sum::<u64>() + artifact.other_versions;
        artifact.unknown = total.saturating_sub(reporting);
    }
    artifacts.sort_by(|a, b| {
        a.unknown
            .cmp(&b.unknown)
            .then_with(|| a.artifact.cmp(&b.artifact))
    });
    Ok(artifacts)
}

/// The progress of the scope's current releases (or of `release`).
async fn updates(
    conn: &mut Conn,
    scope: Scope<'_>,
    release: Option<&ReleaseId>,
) -> ApiResult<Vec<ReleaseUpdates>> {
    let releases = queries::releases(conn, scope, release).await?;
    let ids: Vec<ReleaseId> = releases.iter().map(|r| r.id.clone()).collect();
    let states = queries::states(conn, &ids).await?;
    let reasons = queries::failure_reasons(conn, &ids).await?;
    let mut medians = HashMap::new();
    for id in &ids {
        medians.insert(
            id.clone(),
            queries::median_offer_to_success(conn, id).await?,
        );
    }
    let mut out = Vec::with_capacity(releases.len());
    for r in releases {
        let mut u = ReleaseUpdates {
            release_id: r.id.clone(),
            cohort_id: r.cohort_id,
            cohort: r.cohort,
            bundle: r.bundle,
            rollout_percent: u8::try_from(r.rollout_percent).unwrap_or(100),
            required: r.required,
            offered: 0,
            pending: 0,
            downloading: 0,
            installing: 0,
            succeeded: 0,
            failed: 0,
            rolled_back: 0,
            success_rate: None,
            failure_reasons: Vec::new(),
            median_offer_to_success_ms: medians.get(&r.id).copied().flatten().map(count),
        };
        for s in states.iter().filter(|s| s.release_id == r.id.as_str()) {
            let n = count(s.devices);
            u.offered += n;
            match s.state.as_deref().and_then(UpdateState::parse) {
                None => u.pending += n,
                Some(UpdateState::Downloading) => u.downloading += n,
                Some(UpdateState::Installing) => u.installing += n,
                Some(UpdateState::Succeeded) => u.succeeded += n,
                Some(UpdateState::Failed) => u.failed += n,
                Some(UpdateState::RolledBack) => u.rolled_back += n,
            }
        }
        let finished = u.succeeded + u.failed + u.rolled_back;
        u.success_rate = (finished > 0).then(|| share(u.succeeded, finished));
        let mut reasons: Vec<FailureReason> = reasons
            .iter()
            .filter(|g| g.release_id == r.id.as_str())
            .map(|g| FailureReason {
                reason: g.reason.clone().unwrap_or_else(|| NO_REASON.to_owned()),
                devices: count(g.devices),
            })
            .collect();
        reasons.sort_by(|a, b| {
            b.devices
                .cmp(&a.devices)
                .then_with(|| a.reason.cmp(&b.reason))
        });
        u.failure_reasons = reasons;
        out.push(u);
    }
    Ok(out)
}
