//! The counts statistics read instead of scanning history, written by the check-in writer in
//! the transaction that writes the check-ins: check-ins per product, cohort and hour
//! (`check_in_hours`, the last [`KEPT_HOURS`] hours), and the first time each device was
//! offered each release (`release_devices.offered_at`; the rest of that row follows the
//! device's reports through a trigger, see migration 0011).

use super::device_status::{ROWS_PER_STATEMENT, StatusUpdate, hour_of};
use super::{Conn, dialect, query};

/// Hours of check-in counts kept: the statistics show 24; the rest is slack for clocks and
/// batches that straddle midnight.
pub const KEPT_HOURS: i64 = 48;

/// Adds the check-ins of `chunk` (at most [`ROWS_PER_STATEMENT`] devices) to their product's
/// and cohort's hours, then drops hours older than [`KEPT_HOURS`] before the newest one.
pub async fn add_check_ins(conn: &mut Conn, chunk: &[StatusUpdate]) -> sqlx::Result<()> {
    let rows: Vec<(&StatusUpdate, i64, i64)> = chunk
        .iter()
        .flat_map(|u| u.hours.iter().map(move |(hour, n)| (u, *hour, *n)))
        .collect();
    let Some(newest) = chunk.iter().map(|u| hour_of(u.seen_at)).max() else {
        return Ok(());
    };
    for rows in rows.chunks(ROWS_PER_STATEMENT) {
        if rows.is_empty() {
            continue;
        }
        // The device's cohort is read here, when the check-ins are written: a device that
        // changes cohort later leaves its past check-ins with the cohort it had.
        let mut q = query(
            "INSERT INTO check_in_hours (product_id, cohort_id, hour, check_ins) \
             SELECT d.product_id, COALESCE(d.cohort_id, ''), v.column2, \
             CAST(SUM(v.column3) AS BIGINT) FROM (VALUES ",
        );
        for (i, (update, hour, count)) in rows.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(update.device_id.as_str().to_owned()).push(", ");
            q.push_bind(*hour).push(", ");
            q.push_bind(*count).push(")");
        }
        q.push(
            ") v JOIN devices d ON d.id = v.column1 WHERE TRUE \
             GROUP BY d.product_id, COALESCE(d.cohort_id, ''), v.column2 \
             ON CONFLICT (product_id, cohort_id, hour) \
             DO UPDATE SET check_ins = check_in_hours.check_ins + excluded.check_ins",
        );
        q.execute(&mut *conn).await?;
    }
    query("DELETE FROM check_in_hours WHERE hour < $1")
        .bind(newest - KEPT_HOURS)
        .execute(&mut *conn)
        .await?;
    // Hours no device was last seen in any more (their devices checked in since): the
    // triggers of migration 0013 leave them at 0, a partial index finds them.
    query("DELETE FROM seen_hours WHERE devices = 0")
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the first offer of each (release, device) in `chunk`. A row the device's reports
/// made first (its offer was still waiting in the writer) gets its offer time, and its
/// offer-to-success time when it already succeeded; an offer already recorded stays.
pub async fn record_offers(conn: &mut Conn, chunk: &[StatusUpdate]) -> sqlx::Result<()> {
    let offers: Vec<_> = chunk
        .iter()
        .flat_map(|u| u.offers.iter().map(move |(r, at)| (&u.device_id, r, *at)))
        .collect();
    if offers.is_empty() {
        return Ok(());
    }
    let backend = conn.backend();
    let millis =
        dialect::millis_between(backend, "release_devices.state_at", "excluded.offered_at");
    for offers in offers.chunks(ROWS_PER_STATEMENT) {
        let mut q = query(
            "INSERT INTO release_devices (release_id, device_id, offered_at) \
             SELECT v.column1, v.column2, v.column3 FROM (VALUES ",
        );
        for (i, (device, release, at)) in offers.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(release.as_str().to_owned()).push(", ");
            q.push_bind(device.as_str().to_owned()).push(", ");
            q.push_bind(*at).push(")");
        }
        q.push(format!(
            ") v WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = v.column2) \
             AND EXISTS (SELECT 1 FROM releases r WHERE r.id = v.column1) \
             ON CONFLICT (release_id, device_id) DO UPDATE SET offered_at = excluded.offered_at, \
             offer_to_success_ms = CASE WHEN release_devices.state = 'succeeded' \
             THEN {millis} END \
             WHERE release_devices.offered_at IS NULL"
        ));
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::api::device_api::{DeviceUpdate, UpdateState};
    use crate::api::{DeviceId, ReleaseId};
    use crate::server::store::{self, Pool, stats, test_pools, update_reports};

    /// Product `prd_1` with cohort `coh_1`, one release of a bundle to it, and `devices`.
    async fn fleet(pool: &Pool, devices: usize) -> (ReleaseId, Vec<DeviceId>) {
        let now = store::now();
        let release = ReleaseId::generate();
        let mut tx = store::begin_write(pool).await.expect("begin");
        for sql in [
            "INSERT INTO organizations (id, name, created_at) VALUES ('org_1', 'o', $1)",
            "INSERT INTO products (id, org_id, name, created_at, updated_at) \
             VALUES ('prd_1', 'org_1', 'p', $1, $1)",
            "INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
             VALUES ('coh_1', 'org_1', 'prd_1', 'c', $1, $1)",
            "INSERT INTO bundles (id, org_id, product_id, name, created_at) \
             VALUES ('bnd_1', 'org_1', 'prd_1', 'b', $1)",
        ] {
            store::query(sql)
                .bind(now)
                .execute(&mut tx)
                .await
                .expect(sql);
        }
        store::query(
            "INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, \
             rollout_percent, created_at, updated_at) \
             VALUES ($1, 'org_1', 'prd_1', 'coh_1', 'bnd_1', 100, $2, $2)",
        )
        .bind(release.as_str())
        .bind(now)
        .execute(&mut tx)
        .await
        .expect("release");
        let mut ids = Vec::new();
        for i in 0..devices {
            let id = DeviceId::generate();
            store::query(
                "INSERT INTO devices (id, org_id, product_id, cohort_id, updated_at) \
                 VALUES ($1, 'org_1', 'prd_1', 'coh_1', $2)",
            )
            .bind(id.as_str())
            .bind(now)
            .execute(&mut tx)
            .await
            .expect("device");
            store::query(
                "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
                 VALUES ($1, 'org_1', $2, $3)",
            )
            .bind(id.as_str())
            .bind(format!("d{i}"))
            .bind(now)
            .execute(&mut tx)
            .await
            .expect("device details");
            ids.push(id);
        }
        tx.commit().await.expect("commit");
        (release, ids)
    }

    fn check_in(device: &DeviceId, at: DateTime<Utc>, offer: Option<&ReleaseId>) -> StatusUpdate {
        StatusUpdate {
            device_id: device.clone(),
            seen_at: at,
            address: None,
            check_ins: 1,
            reported_target: None,
            boot_id: None,
            uptime_s: None,
            config_revision: None,
            config_failure: None,
            status: None,
            running: None,
            hours: [(hour_of(at), 1)].into(),
            offers: offer.map(|r| vec![(r.clone(), at)]).unwrap_or_default(),
        }
    }

    async fn write(pool: &Pool, batch: &[StatusUpdate]) {
        let mut tx = store::begin_write(pool).await.expect("begin");
        crate::server::store::device_status::write_batch(&mut tx, batch)
            .await
            .expect("write");
        tx.commit().await.expect("commit");
    }

    async fn report(
        pool: &Pool,
        device: &DeviceId,
        release: &ReleaseId,
        state: UpdateState,
        at: DateTime<Utc>,
    ) {
        let mut tx = store::begin_write(pool).await.expect("begin");
        let report = DeviceUpdate {
            release_id: release.clone(),
            state,
            reason: Some(format!("{state:?}")),
            at,
        };
        update_reports::insert(&mut tx, device, &report)
            .await
            .expect("report");
        tx.commit().await.expect("commit");
    }

    #[tokio::test]
    async fn offer_to_success_is_measured_from_the_first_offer_also_when_the_offer_is_written_late()
    {
        for (_dir, pool) in test_pools::all().await {
            let (release, devices) = fleet(&pool, 4).await;
            let t0 = store::now();
            // Offered, offered again later (the first offer counts), then succeeded 1.5 s on.
            write(&pool, &[check_in(&devices[0], t0, Some(&release))]).await;
            write(
                &pool,
                &[check_in(
                    &devices[0],
                    t0 + Duration::seconds(1),
                    Some(&release),
                )],
            )
            .await;
            report(
                &pool,
                &devices[0],
                &release,
                UpdateState::Downloading,
                t0 + Duration::milliseconds(700),
            )
            .await;
            report(
                &pool,
                &devices[0],
                &release,
                UpdateState::Succeeded,
                t0 + Duration::milliseconds(1500),
            )
            .await;
            // Succeeded before its offer reached the database: measured when the offer arrives.
            report(
                &pool,
                &devices[1],
                &release,
                UpdateState::Succeeded,
                t0 + Duration::seconds(4),
            )
            .await;
            write(&pool, &[check_in(&devices[1], t0, Some(&release))]).await;
            // Failed; a late `downloading` does not move it back.
            report(&pool, &devices[2], &release, UpdateState::Failed, t0).await;
            report(
                &pool,
                &devices[2],
                &release,
                UpdateState::Downloading,
                t0 + Duration::seconds(1),
            )
            .await;

            // Failed, then rolled back: equal ranks, the later report counts.
            report(&pool, &devices[3], &release, UpdateState::Failed, t0).await;
            report(
                &pool,
                &devices[3],
                &release,
                UpdateState::RolledBack,
                t0 + Duration::seconds(1),
            )
            .await;

            let mut conn = pool.acquire().await.expect("conn");
            let rows: Vec<(String, Option<String>, Option<i64>)> = store::query(
                "SELECT device_id, state, offer_to_success_ms FROM release_devices ORDER BY device_id",
            )
            .fetch_all(&mut conn)
            .await
            .expect("rows");
            let by_device: BTreeMap<String, (Option<String>, Option<i64>)> =
                rows.into_iter().map(|(d, s, ms)| (d, (s, ms))).collect();
            let of = |d: &DeviceId| by_device[d.as_str()].clone();
            assert_eq!(of(&devices[0]), (Some("succeeded".into()), Some(1500)));
            assert_eq!(of(&devices[1]), (Some("succeeded".into()), Some(4000)));
            assert_eq!(of(&devices[2]), (Some("failed".into()), None));
            assert_eq!(of(&devices[3]), (Some("rolled_back".into()), None));
            let median = stats::median_offer_to_success(&mut conn, &release)
                .await
                .expect("median");
            assert_eq!(median, Some(2750), "the mean of the two middle values");
            drop(conn);
            replaying_the_reports_changes_nothing(&pool).await;
            pool.close().await;
        }
    }

    /// The median as the stats define it, from every time at once.
    fn median_of(times: &[Option<i64>]) -> Option<i64> {
        let mut known: Vec<i64> = times.iter().flatten().copied().collect();
        known.sort_unstable();
        let n = known.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(known[n / 2]),
            _ => Some((known[n / 2 - 1] + known[n / 2]) / 2),
        }
    }

    async fn set_time(pool: &Pool, release: &ReleaseId, device: &DeviceId, ms: Option<i64>) {
        let mut tx = store::begin_write(pool).await.expect("begin");
        store::query(
            "INSERT INTO release_devices (release_id, device_id, offer_to_success_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (release_id, device_id) \
             DO UPDATE SET offer_to_success_ms = excluded.offer_to_success_ms",
        )
        .bind(release.as_str())
        .bind(device.as_str())
        .bind(ms)
        .execute(&mut tx)
        .await
        .expect("time");
        tx.commit().await.expect("commit");
    }

    async fn assert_median(pool: &Pool, release: &ReleaseId, times: &[Option<i64>], after: &str) {
        let mut conn = pool.acquire().await.expect("conn");
        let median = stats::median_offer_to_success(&mut conn, release)
            .await
            .expect("median");
        assert_eq!(median, median_of(times), "median after {after}: {times:?}");
    }

    #[tokio::test]
    async fn the_median_stays_exact_across_buckets_as_times_are_written_changed_and_deleted() {
        for (_dir, pool) in test_pools::all().await {
            let (release, devices) = fleet(&pool, 30).await;
            // Equal times, times on both sides of bucket starts (99 | 100, 1,999 | 2,000) and
            // far apart, so middles fall inside buckets and straddle two.
            let pattern = [7, 99, 100, 109, 110, 1_950, 1_999, 2_000, 2_001, 123_456];
            let mut times: Vec<Option<i64>> = (0..devices.len())
                .map(|i| Some(pattern[i % pattern.len()] + i64::try_from(i / 10).expect("i")))
                .collect();
            for (device, ms) in devices.iter().zip(&times) {
                set_time(&pool, &release, device, *ms).await;
            }
            assert_median(&pool, &release, &times, "the first writes").await;
            // One at a time from the fastest end: the middle moves through every bucket, with
            // odd and even counts; some are changed (to another bucket, or to none) on the way.
            for step in 0..devices.len() {
                let fastest = (0..times.len())
                    .filter(|&i| times[i].is_some())
                    .min_by_key(|&i| times[i]);
                let Some(i) = fastest else { break };
                if step % 4 == 3 {
                    let moved = times[i].map(|ms| ms * 7 + 1);
                    times[i] = moved;
                    set_time(&pool, &release, &devices[i], moved).await;
                    assert_median(&pool, &release, &times, "a time changed").await;
                }
                let mut tx = store::begin_write(&pool).await.expect("begin");
                if step % 3 == 0 {
                    times[i] = None;
                    store::query("DELETE FROM release_devices WHERE device_id = $1")
                        .bind(devices[i].as_str())
                        .execute(&mut tx)
                        .await
                        .expect("delete");
                } else {
                    times[i] = None;
                    store::query(
                        "UPDATE release_devices SET offer_to_success_ms = NULL \
                         WHERE device_id = $1",
                    )
                    .bind(devices[i].as_str())
                    .execute(&mut tx)
                    .await
                    .expect("clear");
                }
                tx.commit().await.expect("commit");
                assert_median(&pool, &release, &times, "a time removed").await;
            }
            assert_median(&pool, &release, &[], "every time removed").await;
            pool.close().await;
        }
    }

    type Summary = Vec<(String, Option<String>, Option<String>, Option<i64>)>;
    /// id, device, release, state, reason, reported at.
    type Report = (
        String,
        String,
        String,
        String,
        Option<String>,
        DateTime<Utc>,
    );

    async fn summary(pool: &Pool) -> Summary {
        let mut conn = pool.acquire().await.expect("conn");
        store::query(
            "SELECT device_id, state, reason, offer_to_success_ms FROM release_devices \
             ORDER BY device_id",
        )
        .fetch_all(&mut conn)
        .await
        .expect("summary")
    }

    /// `fleet server migrate` copies `release_devices` before `update_reports`, whose trigger
    /// then sees every report again, in any order: the copied rows must stay as they are.
    async fn replaying_the_reports_changes_nothing(pool: &Pool) {
        let before = summary(pool).await;
        let mut tx = store::begin_write(pool).await.expect("begin");
        let reports: Vec<Report> = store::query(
            "SELECT id, device_id, release_id, state, reason, reported_at FROM update_reports \
                 ORDER BY id DESC",
        )
        .fetch_all(&mut tx)
        .await
        .expect("reports");
        store::query("DELETE FROM update_reports")
            .execute(&mut tx)
            .await
            .expect("delete");
        for (id, device, release, state, reason, at) in reports {
            store::query(
                "INSERT INTO update_reports (id, device_id, release_id, state, reason, \
                 reported_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(device)
            .bind(release)
            .bind(state)
            .bind(reason)
            .bind(at)
            .execute(&mut tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
        assert_eq!(summary(pool).await, before);
    }

    #[tokio::test]
    async fn devices_seen_since_a_moment_count_the_part_of_its_hour_after_it() {
        for (_dir, pool) in test_pools::all().await {
            fleet(&pool, 0).await;
            // Devices without a cohort in a product with a real ID (the stats scope needs one).
            let product = crate::api::ProductId::generate();
            let mut tx = store::begin_write(&pool).await.expect("begin");
            store::query(
                "INSERT INTO products (id, org_id, name, created_at, updated_at) \
                 VALUES ($1, 'org_1', 'q', $2, $2)",
            )
            .bind(product.as_str())
            .bind(store::now())
            .execute(&mut tx)
            .await
            .expect("product");
            let mut devices = Vec::new();
            for i in 0..6 {
                let id = DeviceId::generate();
                store::query(
                    "INSERT INTO devices (id, org_id, product_id, updated_at) \
                     VALUES ($1, 'org_1', $2, $3)",
                )
                .bind(id.as_str())
                .bind(product.as_str())
                .bind(store::now())
                .execute(&mut tx)
                .await
                .expect("device");
                store::query(
                    "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
                     VALUES ($1, 'org_1', $2, $3)",
                )
                .bind(id.as_str())
                .bind(format!("q{i}"))
                .bind(store::now())
                .execute(&mut tx)
                .await
                .expect("device details");
                devices.push(id);
            }
            tx.commit().await.expect("commit");
            let at = |text: &str| text.parse::<DateTime<Utc>>().expect("time");
            let now = at("2026-03-01T10:20:00Z");
            // Two on each side of a window's start in the start's hour (10:10 online,
            // 09:20 the last hour); one device never checks in.
            let last_seen = [
                "2026-03-01T10:15:00Z",
                "2026-03-01T10:05:00Z",
                "2026-03-01T09:50:00Z",
                "2026-03-01T09:10:00Z",
                "2026-02-27T10:30:00Z",
            ];
            for (device, seen) in devices.iter().zip(last_seen) {
                write(&pool, &[check_in(device, at(seen), None)]).await;
            }
            let since = stats::SeenSince {
                online: now - Duration::minutes(10),
                hour: now - Duration::hours(1),
                day: now - Duration::days(1),
                week: now - Duration::days(7),
            };
            let scope = stats::Scope {
                product_id: &product,
                cohort_id: None,
            };
            let mut conn = pool.acquire().await.expect("conn");
            let seen = stats::seen(&mut conn, scope, &[String::new()], since)
                .await
                .expect("seen");
            let expected = stats::Seen {
                ever: 5,
                online: 1,
                hour: 3,
                day: 4,
                week: 5,
            };
            assert_eq!(seen, expected);
            drop(conn);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn check_ins_are_counted_in_the_hour_they_happened_per_cohort() {
        for (_dir, pool) in test_pools::all().await {
            let (_, devices) = fleet(&pool, 2).await;
            let hour = hour_of(store::now());
            let start = DateTime::<Utc>::from_timestamp(hour * 3600, 0).expect("hour");
            // One device's coalesced check-ins straddle an hour: each lands in its own.
            let mut straddling = check_in(&devices[0], start - Duration::seconds(1), None);
            straddling.absorb(check_in(&devices[0], start + Duration::seconds(1), None));
            write(&pool, &[straddling, check_in(&devices[1], start, None)]).await;
            let mut conn = pool.acquire().await.expect("conn");
            let rows: Vec<(String, i64, i64)> =
                store::query("SELECT cohort_id, hour, check_ins FROM check_in_hours ORDER BY hour")
                    .fetch_all(&mut conn)
                    .await
                    .expect("rows");
            assert_eq!(
                rows,
                [("coh_1".into(), hour - 1, 1), ("coh_1".into(), hour, 2)]
            );
            drop(conn);
            pool.close().await;
        }
    }
}
