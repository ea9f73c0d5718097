//! The aggregates behind `GET …/stats`, read from the summaries triggers keep exact
//! (migration 0013) and the check-in writer's hourly counts, so an answer reads a few rows per
//! cohort, version, release or state, never one per device. The time windows come from the
//! caller (one "now" per answer).

use chrono::{DateTime, Utc};

use super::device_status::hour_of;
use super::{Conn, Query, dialect, parse_id, query};
use crate::api::stats::{MAX_FAILURE_REASONS, MAX_VERSIONS};
use crate::api::{CohortId, ProductId, ReleaseId};

/// Which devices: a product's, or one cohort's of it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub product_id: &'a ProductId,
    pub cohort_id: Option<&'a CohortId>,
}

impl Scope<'_> {
    /// Appends ` AND <column> = <cohort>` for a cohort's scope.
    fn push_cohort(&self, q: &mut Query<'_>, column: &str) {
        if let Some(cohort) = self.cohort_id {
            q.push(format_args!(" AND {column} = "));
            q.push_bind(cohort.as_str().to_owned());
        }
    }
}

/// The oldest check-in each connection figure counts.
#[derive(Debug, Clone, Copy)]
pub struct SeenSince {
    pub online: DateTime<Utc>,
    pub hour: DateTime<Utc>,
    pub day: DateTime<Utc>,
    pub week: DateTime<Utc>,
}

/// Device counts of one cohort (`cohort_id` '': devices without one).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct CohortGroup {
    pub cohort_id: String,
    pub devices: i64,
    pub quarantined: i64,
    pub needs_provisioning: i64,
}

/// Device counts per cohort of the scope, from the summary the triggers of migration 0013
/// keep; cohorts without devices left out.
pub async fn device_groups(conn: &mut Conn, scope: Scope<'_>) -> sqlx::Result<Vec<CohortGroup>> {
    let mut q = query(
        "SELECT cohort_id, devices, quarantined, needs_provisioning FROM device_counts \
         WHERE devices > 0 AND product_id = ",
    );
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "cohort_id");
    q.fetch_all(conn).await
}

/// Devices of the scope that ever checked in, and those seen since each moment of `since`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Seen {
    pub ever: i64,
    pub online: i64,
    pub hour: i64,
    pub day: i64,
    pub week: i64,
}

#[derive(sqlx::FromRow)]
struct HourSums {
    ever: Option<i64>,
    online: Option<i64>,
    hour: Option<i64>,
    day: Option<i64>,
    week: Option<i64>,
}

/// [`Seen`] of the devices in `cohorts` (cohort keys, '' for none) of the scope's product.
/// The devices seen since a moment are those whose last check-in's hour (`seen_hours`, kept by
/// triggers) is that moment's hour or later, less those seen in that hour before the moment:
/// an index range over one hour's devices (usually those that went quiet then), never a count
/// of every device online.
pub async fn seen(
    conn: &mut Conn,
    scope: Scope<'_>,
    cohorts: &[String],
    since: SeenSince,
) -> sqlx::Result<Seen> {
    let moments = [since.online, since.hour, since.day, since.week];
    let hours = moments.map(hour_of);
    let sum = |i: usize, name: &str| {
        format!(
            "CAST(SUM(CASE WHEN hour >= ${} THEN devices ELSE 0 END) AS BIGINT) AS {name}",
            i + 1
        )
    };
    let mut q = query(format!(
        "SELECT CAST(SUM(devices) AS BIGINT) AS ever, {}, {}, {}, {} FROM seen_hours \
         WHERE product_id = ",
        sum(0, "online"),
        sum(1, "hour"),
        sum(2, "day"),
        sum(3, "week"),
    ));
    for hour in hours {
        q = q.bind(hour);
    }
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "cohort_id");
    let sums: HourSums = q.fetch_one(&mut *conn).await?;
    let mut seen = Seen {
        ever: sums.ever.unwrap_or(0),
        online: sums.online.unwrap_or(0),
        hour: sums.hour.unwrap_or(0),
        day: sums.day.unwrap_or(0),
        week: sums.week.unwrap_or(0),
    };
    if cohorts.is_empty() || seen.ever == 0 {
        return Ok(seen);
    }
    let mut q = query("SELECT ");
    for (i, (moment, hour)) in moments.iter().zip(hours).enumerate() {
        let start = DateTime::<Utc>::from_timestamp(hour * 3600, 0).unwrap_or(*moment);
        q.push(if i == 0 { "(" } else { ", (" });
        q.push("SELECT COUNT(*) FROM device_status WHERE product_id = ");
        q.push_bind(scope.product_id.as_str().to_owned());
        q.push(" AND cohort_id IN (");
        q.push_list(cohorts.iter().cloned());
        q.push(") AND last_seen_at >= ").push_bind(start);
        q.push(" AND last_seen_at < ").push_bind(*moment);
        q.push(")");
    }
    let before: (i64, i64, i64, i64) = q.fetch_one(conn).await?;
    seen.online -= before.0;
    seen.hour -= before.1;
    seen.day -= before.2;
    seen.week -= before.3;
    Ok(seen)
}

/// Every cohort of the scope, with its name, by name.
pub async fn cohorts(conn: &mut Conn, scope: Scope<'_>) -> sqlx::Result<Vec<(CohortId, String)>> {
    let mut q = query("SELECT id, name FROM cohorts WHERE product_id = ");
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "id");
    q.push(format_args!(
        " ORDER BY {}",
        dialect::bytewise(conn.backend(), "name")
    ));
    let rows: Vec<(String, String)> = q.fetch_all(conn).await?;
    rows.into_iter()
        .map(|(id, name)| Ok((parse_id!(CohortId, id)?, name)))
        .collect()
}

/// Check-ins per hour (whole hours since the epoch) from `first_hour` on, hours without any
/// left out.
pub async fn check_ins_by_hour(
    conn: &mut Conn,
    scope: Scope<'_>,
    first_hour: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut q = query(
        "SELECT hour, CAST(SUM(check_ins) AS BIGINT) FROM check_in_hours WHERE hour >= $1 \
         AND product_id = ",
    )
    .bind(first_hour);
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "cohort_id");
    q.push(" GROUP BY hour");
    q.fetch_all(conn).await
}

/// Devices per (artifact, version) the scope's devices run: per artifact the
/// [`MAX_VERSIONS`] versions with most devices, and one row with `version` NULL summing the
/// rest.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VersionGroup {
    pub artifact: String,
    pub version: Option<String>,
    pub devices: i64,
}

pub async fn versions(conn: &mut Conn, scope: Scope<'_>) -> sqlx::Result<Vec<VersionGroup>> {
    let backend = conn.backend();
    let mut q = query(format!(
        "SELECT artifact, CASE WHEN n <= {MAX_VERSIONS} THEN version END AS version, \
         CAST(SUM(devices) AS BIGINT) AS devices FROM (\
         SELECT artifact, version, devices, ROW_NUMBER() OVER (PARTITION BY artifact \
         ORDER BY devices DESC, {}) AS n FROM (\
         SELECT artifact, version, SUM(devices) AS devices FROM version_counts \
         WHERE devices > 0 AND product_id = ",
        dialect::bytewise(backend, "version")
    ));
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "cohort_id");
    q.push(format_args!(
        " GROUP BY artifact, version) grouped) ranked \
         GROUP BY artifact, CASE WHEN n <= {MAX_VERSIONS} THEN version END"
    ));
    q.fetch_all(conn).await
}

/// A release as the statistics show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRow {
    pub id: ReleaseId,
    pub cohort_id: CohortId,
    pub cohort: String,
    pub bundle: String,
    pub rollout_percent: i64,
    pub required: bool,
}

#[derive(sqlx::FromRow)]
struct ReleaseRecord {
    id: String,
    cohort_id: String,
    cohort: String,
    bundle: String,
    rollout_percent: i64,
    required: bool,
}

/// The releases whose progress the scope shows: `release` alone when given, else the newest
/// release of each of the scope's cohorts. Newest first.
pub async fn releases(
    conn: &mut Conn,
    scope: Scope<'_>,
    release: Option<&ReleaseId>,
) -> sqlx::Result<Vec<ReleaseRow>> {
    let mut q = query(
        "SELECT r.id, r.cohort_id, c.name AS cohort, b.name AS bundle, \
         CAST(r.rollout_percent AS BIGINT) AS rollout_percent, r.required FROM releases r \
         JOIN cohorts c ON c.id = r.cohort_id JOIN bundles b ON b.id = r.bundle_id \
         WHERE r.product_id = ",
    );
    q.push_bind(scope.product_id.as_str().to_owned());
    scope.push_cohort(&mut q, "r.cohort_id");
    match release {
        Some(id) => {
            q.push(" AND r.id = ").push_bind(id.as_str().to_owned());
        }
        None => {
            q.push(
                " AND r.id = (SELECT MAX(r2.id) FROM releases r2 WHERE r2.cohort_id = r.cohort_id)",
            );
        }
    }
    q.push(" ORDER BY r.id DESC");
    let rows: Vec<ReleaseRecord> = q.fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            Ok(ReleaseRow {
                id: parse_id!(ReleaseId, r.id)?,
                cohort_id: parse_id!(CohortId, r.cohort_id)?,
                cohort: r.cohort,
                bundle: r.bundle,
                rollout_percent: r.rollout_percent,
                required: r.required,
            })
        })
        .collect()
}

/// Devices per release and state (`state` NULL: offered, nothing reported yet).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StateGroup {
    pub release_id: String,
    pub state: Option<String>,
    pub devices: i64,
}

pub async fn states(conn: &mut Conn, releases: &[ReleaseId]) -> sqlx::Result<Vec<StateGroup>> {
    if releases.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query(
        "SELECT release_id, CASE WHEN state <> '' THEN state END AS state, \
         CAST(SUM(devices) AS BIGINT) AS devices FROM release_states \
         WHERE devices > 0 AND release_id IN (",
    );
    q.push_list(releases.iter().map(|r| r.as_str().to_owned()));
    q.push(") GROUP BY release_id, state");
    q.fetch_all(conn).await
}

/// Devices per release and reason among those now `failed` or `rolled_back`: per release the
/// [`MAX_FAILURE_REASONS`] reasons with most devices (`reason` NULL: none given).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReasonGroup {
    pub release_id: String,
    pub reason: Option<String>,
    pub devices: i64,
}

pub async fn failure_reasons(
    conn: &mut Conn,
    releases: &[ReleaseId],
) -> sqlx::Result<Vec<ReasonGroup>> {
    if releases.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.backend();
    let mut q = query(format!(
        "SELECT release_id, reason, devices FROM (SELECT release_id, reason, devices, \
         ROW_NUMBER() OVER (PARTITION BY release_id ORDER BY devices DESC, {}) AS n FROM (\
         SELECT release_id, CASE WHEN reason_given THEN reason END AS reason, \
         CAST(SUM(devices) AS BIGINT) AS devices FROM release_states \
         WHERE devices > 0 AND state IN ('failed', 'rolled_back') AND release_id IN (",
        dialect::bytewise(backend, "reason")
    ));
    q.push_list(releases.iter().map(|r| r.as_str().to_owned()));
    q.push(format_args!(
        ") GROUP BY release_id, reason_given, reason) grouped) ranked \
         WHERE n <= {MAX_FAILURE_REASONS}"
    ));
    q.fetch_all(conn).await
}

/// The median milliseconds from first offer to success of `release` (the mean of the two
/// middle values for an even count), exact: the bucket counts migration 0017 keeps say which
/// bucket holds the middle and how many faster times come before it; the middle values are
/// then read through the index on (release, time) from that bucket's start, so the walk is
/// over one bucket's devices, not half the release's.
pub async fn median_offer_to_success(
    conn: &mut Conn,
    release: &ReleaseId,
) -> sqlx::Result<Option<i64>> {
    let buckets: Vec<(i64, i64)> = query(
        "SELECT bucket_ms, devices FROM release_success_times WHERE release_id = $1 \
         AND devices > 0 ORDER BY bucket_ms",
    )
    .bind(release.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let Some(middle) = Middle::of(&buckets) else {
        return Ok(None);
    };
    let values: Vec<(i64,)> = query(
        "SELECT offer_to_success_ms FROM release_devices WHERE release_id = $1 \
         AND offer_to_success_ms IS NOT NULL AND offer_to_success_ms >= $2 \
         ORDER BY offer_to_success_ms LIMIT $3 OFFSET $4",
    )
    .bind(release.as_str())
    .bind(middle.bucket_ms)
    .bind(middle.values)
    .bind(middle.skip)
    .fetch_all(conn)
    .await?;
    let sum: i64 = values.iter().map(|(ms,)| ms).sum();
    let len = i64::try_from(values.len()).unwrap_or(1).max(1);
    Ok(Some(sum / len))
}

/// Where the middle of a release's sorted times is, from its bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Middle {
    /// The start of the bucket holding the first middle value.
    bucket_ms: i64,
    /// Times in that bucket before the first middle value.
    skip: i64,
    /// 1 for an odd count, 2 for an even one (the second may lie in a later bucket: the read
    /// runs on past the bucket's end).
    values: i64,
}

impl Middle {
    /// From `(bucket start, count)` in ascending order; `None` when they count nothing.
    fn of(buckets: &[(i64, i64)]) -> Option<Self> {
        let total: i64 = buckets.iter().map(|(_, devices)| devices).sum();
        if total <= 0 {
            return None;
        }
        let rank = (total - 1) / 2;
        let mut before = 0;
        for &(bucket_ms, devices) in buckets {
            if rank < before + devices {
                return Some(Self {
                    bucket_ms,
                    skip: rank - before,
                    values: if total % 2 == 0 { 2 } else { 1 },
                });
            }
            before += devices;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Middle;

    #[test]
    fn the_middle_is_found_in_the_bucket_holding_its_rank() {
        assert_eq!(Middle::of(&[]), None);
        assert_eq!(Middle::of(&[(100, 0)]), None);
        // Five times: rank 2 is the third, the first of bucket 200.
        let odd = [(100, 2), (200, 1), (300, 2)];
        assert_eq!(
            Middle::of(&odd),
            Some(Middle {
                bucket_ms: 200,
                skip: 0,
                values: 1
            })
        );
        // Six times: ranks 2 and 3, starting as the third of bucket 100.
        let even = [(100, 3), (200, 3)];
        assert_eq!(
            Middle::of(&even),
            Some(Middle {
                bucket_ms: 100,
                skip: 2,
                values: 2
            })
        );
    }
}
