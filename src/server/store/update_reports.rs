//! Update reports: every state a device reported per release (`update_reports`, history) and
//! its latest one (`device_updates`).

use chrono::{DateTime, Utc};

use super::device_offers::parse_state;
use super::{Conn, parse_id, query};
use crate::api::device_api::DeviceUpdate;
use crate::api::{DeviceId, ProductId, ReleaseId};

/// A release as a report needs it: its product and bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedRelease {
    pub product_id: ProductId,
    pub bundle_id: crate::api::BundleId,
}

/// Release `id` if it exists, with its product and bundle.
pub async fn release(conn: &mut Conn, id: &ReleaseId) -> sqlx::Result<Option<ReportedRelease>> {
    let row: Option<(String, String)> =
        query("SELECT product_id, bundle_id FROM releases WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(product_id, bundle_id)| {
        Ok(ReportedRelease {
            product_id: parse_id!(ProductId, product_id)?,
            bundle_id: parse_id!(crate::api::BundleId, bundle_id)?,
        })
    })
    .transpose()
}

/// Adds a report to the history; `false` when the device already reported this state for
/// this release (the history keeps the first).
pub async fn insert(
    conn: &mut Conn,
    device_id: &DeviceId,
    report: &DeviceUpdate,
) -> sqlx::Result<bool> {
    let done = query(
        "INSERT INTO update_reports (id, device_id, release_id, state, reason, reported_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, release_id, state) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(device_id.as_str())
    .bind(report.release_id.as_str())
    .bind(report.state.as_str())
    .bind(report.reason.as_deref())
    .bind(report.at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

#[derive(sqlx::FromRow)]
struct UpdateRow {
    release_id: String,
    state: String,
    reason: Option<String>,
    at: DateTime<Utc>,
}

impl UpdateRow {
    fn into_api(self) -> sqlx::Result<DeviceUpdate> {
        Ok(DeviceUpdate {
            release_id: parse_id!(ReleaseId, self.release_id)?,
            state: parse_state(&self.state)?,
            reason: self.reason,
            at: self.at,
        })
    }
}

/// The device's latest update state.
pub async fn latest(conn: &mut Conn, device_id: &DeviceId) -> sqlx::Result<Option<DeviceUpdate>> {
    let row: Option<UpdateRow> =
        query("SELECT release_id, state, reason, at FROM device_updates WHERE device_id = $1")
            .bind(device_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(UpdateRow::into_api).transpose()
}

/// Makes `update` the device's latest state.
pub async fn set_latest(
    conn: &mut Conn,
    device_id: &DeviceId,
    update: &DeviceUpdate,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO device_updates (device_id, release_id, state, reason, at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (device_id) DO UPDATE SET \
         release_id = excluded.release_id, state = excluded.state, reason = excluded.reason, \
         at = excluded.at",
    )
    .bind(device_id.as_str())
    .bind(update.release_id.as_str())
    .bind(update.state.as_str())
    .bind(update.reason.as_deref())
    .bind(update.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The device's `limit` newest reports, newest first.
pub async fn history(
    conn: &mut Conn,
    device_id: &DeviceId,
    limit: u32,
) -> sqlx::Result<Vec<DeviceUpdate>> {
    let rows: Vec<UpdateRow> = query(
        "SELECT release_id, state, reason, reported_at AS at FROM update_reports \
         WHERE device_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(device_id.as_str())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(UpdateRow::into_api).collect()
}
