//! What devices said at check-in (`device_status`, `device_running`): written in batches by the
//! check-in writer, read by the operator's status view.

use chrono::{DateTime, Utc};

use std::collections::BTreeMap;

use super::{Conn, query};
use crate::api::device_api::RunningArtifact;
use crate::api::{DeviceId, ReleaseId};

/// Rows per multi-row `VALUES` statement: well under SQLite's 32,766 and PostgreSQL's 65,535
/// bound parameters at the widest row below (10 columns), and small on purpose: sqlx's SQLite
/// driver looks up every parameter's name (`sqlite3_bind_parameter_name`, a linear scan of the
/// statement's parameter list), so binding costs grow with the square of a statement's
/// parameters. At 500 rows that lookup took 26% of the service's CPU under back-to-back
/// check-ins (`bench/devices.sh`, bench/RESULTS.md); at 100 rows, 7%, for a few more statements.
pub(crate) const ROWS_PER_STATEMENT: usize = 100;

/// One device's coalesced check-ins since the last flush: the latest report, and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub device_id: DeviceId,
    pub seen_at: DateTime<Utc>,
    pub address: Option<String>,
    /// Check-ins folded into this update (added to the stored count).
    pub check_ins: i64,
    pub reported_target: Option<String>,
    pub boot_id: Option<String>,
    pub uptime_s: Option<i64>,
    pub config_revision: Option<i64>,
    /// The configuration the device could not apply, as JSON `{"revision", "reason"}`.
    pub config_failure: Option<String>,
    /// The status object as compact JSON text.
    pub status: Option<String>,
    /// What the device runs; `None` leaves the stored rows as they are.
    pub running: Option<Vec<RunningArtifact>>,
    /// The check-ins by hour (whole hours since the Unix epoch), summing to `check_ins`: the
    /// statistics' check-ins per hour stay exact however a batch straddles an hour.
    pub hours: BTreeMap<i64, i64>,
    /// The releases these check-ins were offered, each with the first check-in offering it.
    pub offers: Vec<(ReleaseId, DateTime<Utc>)>,
}

impl StatusUpdate {
    /// Folds `newer` (a later check-in of the same device) into this one: the newer report
    /// wins, counts add up, what runs stays when the newer check-in did not say, and offers
    /// keep their first time.
    pub fn absorb(&mut self, newer: StatusUpdate) {
        let check_ins = self.check_ins + newer.check_ins;
        let running = self.running.take();
        let mut hours = std::mem::take(&mut self.hours);
        let mut offers = std::mem::take(&mut self.offers);
        let StatusUpdate {
            hours: newer_hours,
            offers: newer_offers,
            ..
        } = &newer;
        for (hour, count) in newer_hours {
            *hours.entry(*hour).or_insert(0) += count;
        }
        for (release, at) in newer_offers {
            if !offers.iter().any(|(r, _)| r == release) {
                offers.push((release.clone(), *at));
            }
        }
        *self = newer;
        self.check_ins = check_ins;
        self.hours = hours;
        self.offers = offers;
        if self.running.is_none() {
            self.running = running;
        }
    }
}

/// The hour of `at`, as whole hours since the Unix epoch.
pub fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// Writes a batch of status updates set-based: one upsert statement per
/// [`ROWS_PER_STATEMENT`] devices, one delete plus one insert for the running rows, and the
/// statistics' counts (check-ins per hour, first offers). Devices deleted since they checked
/// in are skipped. Run it inside one write transaction.
pub async fn write_batch(conn: &mut Conn, updates: &[StatusUpdate]) -> sqlx::Result<()> {
    for chunk in updates.chunks(ROWS_PER_STATEMENT) {
        upsert_status(conn, chunk).await?;
        let with_running: Vec<&StatusUpdate> =
            chunk.iter().filter(|u| u.running.is_some()).collect();
        replace_running(conn, &with_running).await?;
        super::stats_counts::add_check_ins(conn, chunk).await?;
        super::stats_counts::record_offers(conn, chunk).await?;
    }
    Ok(())
}

async fn upsert_status(conn: &mut Conn, chunk: &[StatusUpdate]) -> sqlx::Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    // VALUES columns are `column1…` on both engines. The join skips a device deleted since it
    // checked in and gives a new row its device's product and cohort, which the statistics'
    // summaries count it by (migration 0013 keeps them when the device moves); `WHERE TRUE`
    // lets SQLite parse `ON CONFLICT` after `INSERT … SELECT … JOIN`.
    let mut q = query(
        "INSERT INTO device_status (device_id, product_id, cohort_id, last_seen_at, \
         last_address, check_ins, reported_target, boot_id, uptime_s, config_revision, status, \
         config_failure) \
         SELECT v.column1, d.product_id, COALESCE(d.cohort_id, ''), v.column2, v.column3, \
         v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10 \
         FROM (VALUES ",
    );
    for (i, u) in chunk.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.push_bind(u.device_id.as_str().to_owned()).push(", ");
        q.push_bind(u.seen_at).push(", ");
        q.push_bind(u.address.clone()).push(", ");
        q.push_bind(u.check_ins).push(", ");
        q.push_bind(u.reported_target.clone()).push(", ");
        q.push_bind(u.boot_id.clone()).push(", ");
        q.push_bind(u.uptime_s).push(", ");
        q.push_bind(u.config_revision).push(", ");
        q.push_bind(u.status.clone()).push(", ");
        q.push_bind(u.config_failure.clone()).push(")");
    }
    q.push(
        ") v JOIN devices d ON d.id = v.column1 WHERE TRUE \
         ON CONFLICT (device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
         last_address = excluded.last_address, \
         check_ins = device_status.check_ins + excluded.check_ins, \
         reported_target = excluded.reported_target, boot_id = excluded.boot_id, \
         uptime_s = excluded.uptime_s, config_revision = excluded.config_revision, \
         status = excluded.status, config_failure = excluded.config_failure",
    );
    q.execute(conn).await?;
    Ok(())
}

/// Makes the stored running rows of `devices` what each reported: reads what is stored and
/// writes only the difference. A device reports the same versions at almost every check-in,
/// so the usual batch reads and writes nothing, and the version counts' triggers (migration
/// 0013) run only for a version that really changed.
async fn replace_running(conn: &mut Conn, devices: &[&StatusUpdate]) -> sqlx::Result<()> {
    if devices.is_empty() {
        return Ok(());
    }
    let mut q = query(
        "SELECT device_id, artifact, version, sha256 FROM device_running WHERE device_id IN (",
    );
    q.push_list(devices.iter().map(|u| u.device_id.as_str().to_owned()));
    q.push(")");
    let stored: Vec<(String, String, String, Option<String>)> = q.fetch_all(&mut *conn).await?;
    // What each device reported, by (device, artifact); a repeated artifact: the last one.
    let mut reported: BTreeMap<(&str, &str), (&DeviceId, &RunningArtifact)> = BTreeMap::new();
    for u in devices {
        for r in u.running.as_deref().unwrap_or_default() {
            reported.insert(
                (u.device_id.as_str(), r.artifact.as_str()),
                (&u.device_id, r),
            );
        }
    }
    let mut stale: Vec<(&str, &str)> = Vec::new();
    for (device, artifact, version, sha256) in &stored {
        let key = (device.as_str(), artifact.as_str());
        match reported.get(&key) {
            Some((_, r)) if &r.version == version && &r.sha256 == sha256 => {
                reported.remove(&key);
            }
            Some(_) => {}
            None => stale.push(key),
        }
    }
    let changed: Vec<(&DeviceId, &RunningArtifact)> = reported.into_values().collect();
    for chunk in stale.chunks(ROWS_PER_STATEMENT) {
        let mut q = query("DELETE FROM device_running WHERE ");
        for (i, (device, artifact)) in chunk.iter().enumerate() {
            q.push(if i == 0 {
                "(device_id = "
            } else {
                " OR (device_id = "
            });
            q.push_bind((*device).to_owned()).push(" AND artifact = ");
            q.push_bind((*artifact).to_owned()).push(")");
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in changed.chunks(ROWS_PER_STATEMENT * 2) {
        upsert_rows(conn, chunk).await?;
    }
    Ok(())
}

/// Inserts or replaces the rows' (device, artifact) versions; a row already holding the
/// version and digest is not written.
async fn upsert_rows(conn: &mut Conn, rows: &[(&DeviceId, &RunningArtifact)]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = query(
        "INSERT INTO device_running (device_id, product_id, cohort_id, artifact, version, \
         sha256) SELECT v.column1, d.product_id, COALESCE(d.cohort_id, ''), v.column2, \
         v.column3, v.column4 FROM (VALUES ",
    );
    for (i, (device_id, r)) in rows.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.push_bind(device_id.as_str().to_owned()).push(", ");
        q.push_bind(r.artifact.clone()).push(", ");
        q.push_bind(r.version.clone()).push(", ");
        q.push_bind(r.sha256.clone()).push(")");
    }
    q.push(
        ") v JOIN devices d ON d.id = v.column1 WHERE TRUE \
         ON CONFLICT (device_id, artifact) DO UPDATE SET version = excluded.version, \
         sha256 = excluded.sha256 WHERE device_running.version <> excluded.version \
         OR device_running.sha256 IS DISTINCT FROM excluded.sha256",
    );
    q.execute(conn).await?;
    Ok(())
}

/// Sets the version of each of `running`'s artifacts for one device (after it reported a
/// successful update); artifacts not named keep their rows.
pub async fn upsert_running(
    conn: &mut Conn,
    device_id: &DeviceId,
    running: &[RunningArtifact],
) -> sqlx::Result<()> {
    let rows: Vec<(&DeviceId, &RunningArtifact)> = running.iter().map(|r| (device_id, r)).collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT * 2) {
        upsert_rows(conn, chunk).await?;
    }
    Ok(())
}

/// What the device runs, by artifact name.
pub async fn running(conn: &mut Conn, device_id: &DeviceId) -> sqlx::Result<Vec<RunningArtifact>> {
    let rows: Vec<(String, String, Option<String>)> = query(
        "SELECT artifact, version, sha256 FROM device_running WHERE device_id = $1 \
         ORDER BY artifact",
    )
    .bind(device_id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(artifact, version, sha256)| RunningArtifact {
            artifact,
            version,
            sha256,
        })
        .collect())
}

/// A device's stored check-in status.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub last_seen_at: DateTime<Utc>,
    pub last_address: Option<String>,
    pub check_ins: i64,
    pub reported_target: Option<String>,
    pub boot_id: Option<String>,
    pub uptime_s: Option<i64>,
    pub config_revision: Option<i64>,
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    last_seen_at: DateTime<Utc>,
    last_address: Option<String>,
    check_ins: i64,
    reported_target: Option<String>,
    boot_id: Option<String>,
    uptime_s: Option<i64>,
    config_revision: Option<i64>,
    status: Option<String>,
}

/// The device's status row, if it ever checked in (and the batch was flushed).
pub async fn get(conn: &mut Conn, device_id: &DeviceId) -> sqlx::Result<Option<Status>> {
    let row: Option<StatusRow> = query(
        "SELECT last_seen_at, last_address, check_ins, reported_target, boot_id, uptime_s, \
         config_revision, status FROM device_status WHERE device_id = $1",
    )
    .bind(device_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Status {
        last_seen_at: r.last_seen_at,
        last_address: r.last_address,
        check_ins: r.check_ins,
        reported_target: r.reported_target,
        boot_id: r.boot_id,
        uptime_s: r.uptime_s,
        config_revision: r.config_revision,
        status: r.status,
    }))
}
