//! The summaries a bulk write changes (`device_counts`, `seen_hours`, `version_counts`, kept
//! by the triggers of migration 0013) and the auth epoch (0010), kept by the bulk write itself
//! in a few set-based statements.
//!
//! SQLite runs triggers once per row: a bulk change of 100,000 devices ran about seven trigger
//! statements per device, most of the time of the whole UPDATE. Between [`defer`] and
//! [`Deferred::finish`] a row of `bulk_writes` makes those triggers skip their work (migration
//! 0019); `defer` subtracts the affected devices' current contribution to each summary,
//! `finish` moves their status and running rows to their new product and cohort, adds their
//! contribution again as it is now, and bumps the epoch once. The difference is exactly what
//! the triggers would have written. Both run on the bulk write's own transaction, so the
//! marker row is never seen by another connection, and a failure rolls everything back.
//!
//! PostgreSQL's triggers on these tables are per statement (0018): there both calls do nothing.

use super::dialect::temp_table;
use super::{Backend, Conn, query};

/// A device's last check-in as whole hours since the Unix epoch, as `seen_hours` keys it (the
/// same expression as the triggers of 0013).
const SEEN_HOUR: &str =
    "CAST(strftime('%s', substr(last_seen_at, 1, 13) || ':00:00') AS INTEGER) / 3600";

/// The per-row triggers are off for this transaction until [`Deferred::finish`].
#[must_use = "the summaries are wrong until `finish` runs"]
pub struct Deferred {
    /// `SELECT` of the affected devices' IDs; `None` on PostgreSQL.
    devices: Option<String>,
}

/// Takes the summaries of the devices `devices` (a `SELECT` of device IDs, without bound
/// parameters) out of the counts and turns the per-row triggers off; the devices may then be
/// inserted, updated, moved to other products and cohorts, or have certificates revoked, on
/// the same transaction, until [`Deferred::finish`]. IDs that name no device yet (rows about
/// to be inserted) count nothing here.
pub async fn defer(conn: &mut Conn, devices: String) -> sqlx::Result<Deferred> {
    if conn.backend() != Backend::Sqlite {
        return Ok(Deferred { devices: None });
    }
    for (table, columns) in [
        (
            "bulk_count_deltas",
            "product_id TEXT, cohort_id TEXT, devices BIGINT, quarantined BIGINT, \
             needs_provisioning BIGINT",
        ),
        (
            "bulk_hour_deltas",
            "product_id TEXT, cohort_id TEXT, hour BIGINT, devices BIGINT",
        ),
        (
            "bulk_version_deltas",
            "product_id TEXT, cohort_id TEXT, artifact TEXT, version TEXT, devices BIGINT",
        ),
    ] {
        query(format!(
            "CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})"
        ))
        .execute(&mut *conn)
        .await?;
        query(format!(
            "DELETE FROM {}",
            temp_table(Backend::Sqlite, table)
        ))
        .execute(&mut *conn)
        .await?;
    }
    contribute(conn, &devices, -1).await?;
    query("INSERT INTO bulk_writes (id) VALUES (1)")
        .execute(&mut *conn)
        .await?;
    Ok(Deferred {
        devices: Some(devices),
    })
}

impl Deferred {
    /// Brings the status and running rows of the affected devices to their devices' product
    /// and cohort, adds the devices' summaries back as they are now, bumps the auth epoch
    /// when `identities_changed` (a device moved, re-cohorted or a certificate revoked: the
    /// device listener's cached identities may be stale), and turns the triggers on again.
    pub async fn finish(self, conn: &mut Conn, identities_changed: bool) -> sqlx::Result<()> {
        let Some(devices) = self.devices else {
            return Ok(());
        };
        for table in ["device_status", "device_running"] {
            query(format!(
                "UPDATE {table} SET product_id = d.product_id, \
                 cohort_id = COALESCE(d.cohort_id, '') FROM devices d \
                 WHERE d.id = {table}.device_id AND {table}.device_id IN ({devices}) \
                 AND ({table}.product_id IS NOT d.product_id \
                 OR {table}.cohort_id IS NOT COALESCE(d.cohort_id, ''))"
            ))
            .execute(&mut *conn)
            .await?;
        }
        contribute(conn, &devices, 1).await?;
        apply_deltas(conn).await?;
        if identities_changed {
            query("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1")
                .execute(&mut *conn)
                .await?;
        }
        query("DELETE FROM bulk_writes").execute(&mut *conn).await?;
        Ok(())
    }
}

/// Adds `sign` × the devices' current contribution to each summary into the delta tables.
async fn contribute(conn: &mut Conn, devices: &str, sign: i64) -> sqlx::Result<()> {
    let statements = [
        format!(
            "INSERT INTO temp.bulk_count_deltas \
             SELECT product_id, COALESCE(cohort_id, ''), $1 * COUNT(*), \
             $1 * SUM(CASE WHEN quarantined THEN 1 ELSE 0 END), \
             $1 * SUM(CASE WHEN needs_provisioning THEN 1 ELSE 0 END) \
             FROM devices WHERE id IN ({devices}) GROUP BY 1, 2"
        ),
        format!(
            "INSERT INTO temp.bulk_hour_deltas \
             SELECT product_id, cohort_id, {SEEN_HOUR}, $1 * COUNT(*) \
             FROM device_status WHERE device_id IN ({devices}) GROUP BY 1, 2, 3"
        ),
        format!(
            "INSERT INTO temp.bulk_version_deltas \
             SELECT product_id, cohort_id, artifact, version, $1 * COUNT(*) \
             FROM device_running WHERE device_id IN ({devices}) GROUP BY 1, 2, 3, 4"
        ),
    ];
    for sql in statements {
        query(sql).bind(sign).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds the summed deltas to the summaries. A group whose devices all left keeps its row at 0,
/// as after the triggers (the check-in writer prunes such rows). `WHERE true`: SQLite's
/// upsert after a `SELECT` needs a `WHERE` to parse.
async fn apply_deltas(conn: &mut Conn) -> sqlx::Result<()> {
    let statements = [
        "INSERT INTO device_counts (product_id, cohort_id, devices, quarantined, \
         needs_provisioning) \
         SELECT product_id, cohort_id, SUM(devices), SUM(quarantined), SUM(needs_provisioning) \
         FROM temp.bulk_count_deltas WHERE true GROUP BY 1, 2 \
         HAVING SUM(devices) <> 0 OR SUM(quarantined) <> 0 OR SUM(needs_provisioning) <> 0 \
         ON CONFLICT (product_id, cohort_id) DO UPDATE SET \
         devices = device_counts.devices + excluded.devices, \
         quarantined = device_counts.quarantined + excluded.quarantined, \
         needs_provisioning = device_counts.needs_provisioning + excluded.needs_provisioning",
        "INSERT INTO seen_hours (product_id, cohort_id, hour, devices) \
         SELECT product_id, cohort_id, hour, SUM(devices) FROM temp.bulk_hour_deltas \
         WHERE true GROUP BY 1, 2, 3 HAVING SUM(devices) <> 0 \
         ON CONFLICT (product_id, cohort_id, hour) DO UPDATE SET \
         devices = seen_hours.devices + excluded.devices",
        "INSERT INTO version_counts (product_id, cohort_id, artifact, version, devices) \
         SELECT product_id, cohort_id, artifact, version, SUM(devices) \
         FROM temp.bulk_version_deltas WHERE true GROUP BY 1, 2, 3, 4 HAVING SUM(devices) <> 0 \
         ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET \
         devices = version_counts.devices + excluded.devices",
    ];
    for sql in statements {
        query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}
