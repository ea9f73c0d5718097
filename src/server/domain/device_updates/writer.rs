//! The check-in writer: one per replica, it collects check-in statuses in memory (the latest
//! per device wins, counts add up) and writes them set-based in one write transaction every
//! `interval` or as soon as `max_devices` devices wait, so thousands of check-ins a second cost
//! a few write transactions rather than one each (SQLite has one writer; PostgreSQL replicas
//! share one write lock).
//!
//! A check-in's answer does not wait for its write: `last_seen_at` and the rest reach the
//! database at most about one `interval` later (longer only while the database is down, when
//! the batch is kept and retried). Whatever is pending is written when the service stops.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::api::DeviceId;
use crate::server::store::device_status::{self, StatusUpdate};
use crate::server::store::{self, Pool};

/// When a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterSettings {
    /// Longest time a status waits for its batch to be written.
    pub interval: Duration,
    /// A batch of this many devices is written at once, without waiting for `interval`.
    pub max_devices: usize,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            interval: Duration::from_millis(250),
            max_devices: 2_000,
        }
    }
}

pub struct CheckInWriter {
    pool: Pool,
    settings: WriterSettings,
    pending: Mutex<HashMap<DeviceId, StatusUpdate>>,
    /// Woken when a full batch waits.
    full: Notify,
    /// One flush at a time, so batches commit in the order they were taken.
    flushing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for CheckInWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckInWriter")
            .field("settings", &self.settings)
            .field("pending", &self.pending())
            .finish()
    }
}

impl CheckInWriter {
    pub fn new(pool: Pool, settings: WriterSettings) -> Self {
        CheckInWriter {
            pool,
            settings,
            pending: Mutex::default(),
            full: Notify::new(),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    /// Queues one check-in; the device's pending one, if any, is replaced and its count kept.
    pub fn record(&self, update: StatusUpdate) {
        let waiting = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            merge(&mut pending, update);
            pending.len()
        };
        if waiting >= self.settings.max_devices {
            self.full.notify_one();
        }
    }

    /// Drops what a pending check-in said the device runs (a report just wrote newer rows);
    /// the rest of its status still gets written.
    pub fn forget_running(&self, device_id: &DeviceId) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(update) = pending.get_mut(device_id) {
            update.running = None;
        }
    }

    /// Devices waiting to be written.
    pub fn pending(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Writes everything pending now, in one write transaction: how many devices. On failure
    /// the batch is put back (a newer check-in of the same device taking precedence).
    pub async fn flush(&self) -> sqlx::Result<usize> {
        let _turn = self.flushing.lock().await;
        let batch: Vec<StatusUpdate> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending).into_values().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match self.write(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(err) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for older in batch {
                    match pending.remove(&older.device_id) {
                        Some(newer) => {
                            let mut merged = older;
                            merge_into(&mut merged, newer);
                            pending.insert(merged.device_id.clone(), merged);
                        }
                        None => {
                            pending.insert(older.device_id.clone(), older);
                        }
                    }
                }
                Err(err)
            }
        }
    }

    async fn write(&self, batch: &[StatusUpdate]) -> sqlx::Result<()> {
        let mut tx = store::begin_write(&self.pool).await?;
        device_status::write_batch(&mut tx, batch).await?;
        tx.commit().await
    }

    /// Flushes every `interval`, or sooner when a full batch waits, until `stop` resolves;
    /// then flushes what is left.
    pub fn start(
        self: std::sync::Arc<Self>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            tokio::pin!(stop);
            loop {
                let stopping = tokio::select! {
                    () = &mut stop => true,
                    () = tokio::time::sleep(self.settings.interval) => false,
                    () = self.full.notified() => false,
                };
                if let Err(err) = self.flush().await {
                    tracing::error!(error = %err, pending = self.pending(),
                        "could not write check-in statuses; they are kept and retried");
                }
                if stopping {
                    return;
                }
            }
        })
    }
}

fn merge(pending: &mut HashMap<DeviceId, StatusUpdate>, update: StatusUpdate) {
    match pending.get_mut(&update.device_id) {
        Some(older) => merge_into(older, update),
        None => {
            pending.insert(update.device_id.clone(), update);
        }
    }
}

/// `older` becomes `newer`, with both counts, and the older running list when the newer
/// check-in did not say what runs (see [`StatusUpdate::absorb`]).
fn merge_into(older: &mut StatusUpdate, newer: StatusUpdate) {
    older.absorb(newer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::device_api::RunningArtifact;
    use crate::server::store::test_pools;

    async fn device(pool: &Pool, identifier: &str) -> DeviceId {
        let id = DeviceId::generate();
        let now = store::now();
        let mut tx = store::begin_write(pool).await.expect("begin");
        for sql in [
            "INSERT INTO organizations (id, name, created_at) VALUES ('org_1', 'o', $1) \
             ON CONFLICT DO NOTHING",
            "INSERT INTO products (id, org_id, name, created_at, updated_at) \
             VALUES ('prd_1', 'org_1', 'p', $1, $1) ON CONFLICT DO NOTHING",
        ] {
            store::query(sql)
                .bind(now)
                .execute(&mut tx)
                .await
                .expect(sql);
        }
        store::query(
            "INSERT INTO devices (id, org_id, product_id, updated_at) \
             VALUES ($1, 'org_1', 'prd_1', $2)",
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
        .bind(identifier)
        .bind(now)
        .execute(&mut tx)
        .await
        .expect("device details");
        tx.commit().await.expect("commit");
        id
    }

    fn update(device_id: &DeviceId, boot: &str, running: Option<&str>) -> StatusUpdate {
        let seen_at = store::now();
        StatusUpdate {
            device_id: device_id.clone(),
            seen_at,
            address: Some("192.0.2.7".into()),
            check_ins: 1,
            reported_target: Some("armv7".into()),
            boot_id: Some(boot.into()),
            uptime_s: Some(5),
            config_revision: None,
            config_failure: None,
            status: Some("{\"ok\":true}".into()),
            running: running.map(|version| {
                vec![RunningArtifact {
                    artifact: "app".into(),
                    version: version.into(),
                    sha256: None,
                }]
            }),
            hours: [(device_status::hour_of(seen_at), 1)].into(),
            offers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn check_ins_are_written_only_on_flush_latest_wins_and_counts_add_up() {
        for (_dir, pool) in test_pools::all().await {
            let a = device(&pool, "a").await;
            let b = device(&pool, "b").await;
            let writer = CheckInWriter::new(pool.clone(), WriterSettings::default());
            writer.record(update(&a, "boot-1", Some("1.0")));
            writer.record(update(&a, "boot-2", None));
            writer.record(update(&b, "boot-9", Some("2.0")));
            let mut conn = pool.acquire().await.expect("conn");
            assert_eq!(device_status::get(&mut conn, &a).await.expect("get"), None);
            drop(conn);

            assert_eq!(writer.flush().await.expect("flush"), 2);
            let mut conn = pool.acquire().await.expect("conn");
            let status = device_status::get(&mut conn, &a)
                .await
                .expect("get")
                .expect("row");
            assert_eq!(status.check_ins, 2);
            assert_eq!(status.boot_id.as_deref(), Some("boot-2"));
            assert_eq!(status.last_address.as_deref(), Some("192.0.2.7"));
            let running = device_status::running(&mut conn, &a)
                .await
                .expect("running");
            assert_eq!(running.len(), 1);
            assert_eq!(
                running[0].version, "1.0",
                "a check-in without a list keeps the older one"
            );
            drop(conn);

            writer.record(update(&a, "boot-3", Some("1.1")));
            writer.flush().await.expect("flush");
            let mut conn = pool.acquire().await.expect("conn");
            let status = device_status::get(&mut conn, &a)
                .await
                .expect("get")
                .expect("row");
            assert_eq!(status.check_ins, 3);
            let running = device_status::running(&mut conn, &a)
                .await
                .expect("running");
            assert_eq!(running[0].version, "1.1");
            let other = device_status::get(&mut conn, &b)
                .await
                .expect("get")
                .expect("row");
            assert_eq!(other.check_ins, 1);
            // Closing waits for every connection to come back.
            drop(conn);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_batch_of_several_statements_writes_every_device_and_its_running_rows() {
        for (_dir, pool) in test_pools::all().await {
            // Past two statements' worth of rows, and not a multiple of one.
            let count = 2 * device_status::ROWS_PER_STATEMENT + 3;
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                ids.push(device(&pool, &format!("d-{i}")).await);
            }
            let writer = CheckInWriter::new(pool.clone(), WriterSettings::default());
            for (i, id) in ids.iter().enumerate() {
                writer.record(update(id, &format!("boot-{i}"), Some(&format!("1.{i}"))));
            }
            assert_eq!(writer.flush().await.expect("flush"), count);
            let mut conn = pool.acquire().await.expect("conn");
            for (i, id) in ids.iter().enumerate() {
                let status = device_status::get(&mut conn, id)
                    .await
                    .expect("get")
                    .expect("row");
                assert_eq!(status.boot_id, Some(format!("boot-{i}")));
                let running = device_status::running(&mut conn, id)
                    .await
                    .expect("running");
                assert_eq!(running.len(), 1);
                assert_eq!(running[0].version, format!("1.{i}"));
            }
            drop(conn);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_deleted_device_does_not_fail_the_batch() {
        for (_dir, pool) in test_pools::all().await {
            let kept = device(&pool, "kept").await;
            let gone = device(&pool, "gone").await;
            let writer = CheckInWriter::new(pool.clone(), WriterSettings::default());
            writer.record(update(&kept, "b", Some("1.0")));
            writer.record(update(&gone, "b", Some("1.0")));
            let mut conn = pool.acquire_writer().await.expect("conn");
            store::devices::delete(&mut conn, &gone)
                .await
                .expect("delete");
            drop(conn);
            assert_eq!(writer.flush().await.expect("flush"), 2);
            let mut conn = pool.acquire().await.expect("conn");
            assert!(
                device_status::get(&mut conn, &kept)
                    .await
                    .expect("get")
                    .is_some()
            );
            assert!(
                device_status::get(&mut conn, &gone)
                    .await
                    .expect("get")
                    .is_none()
            );
            drop(conn);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_full_batch_wakes_the_task_and_stopping_flushes_the_rest() {
        for (_dir, pool) in test_pools::all().await {
            let a = device(&pool, "a").await;
            let b = device(&pool, "b").await;
            // An interval no test waits for: only a full batch or stopping writes.
            let settings = WriterSettings {
                interval: Duration::from_secs(3600),
                max_devices: 2,
            };
            let writer = std::sync::Arc::new(CheckInWriter::new(pool.clone(), settings));
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let task = writer.clone().start(async {
                let _ = stop_rx.await;
            });
            writer.record(update(&a, "b", None));
            writer.record(update(&b, "b", None));
            // The task writes the full batch; wait for it through the flush lock, not a clock.
            while writer.pending() > 0 {
                tokio::task::yield_now().await;
            }
            let _turn = writer.flushing.lock().await;
            drop(_turn);
            let mut conn = pool.acquire().await.expect("conn");
            assert!(
                device_status::get(&mut conn, &b)
                    .await
                    .expect("get")
                    .is_some()
            );
            drop(conn);
            writer.record(update(&a, "last", None));
            let _ = stop_tx.send(());
            task.await.expect("task");
            let mut conn = pool.acquire().await.expect("conn");
            let status = device_status::get(&mut conn, &a)
                .await
                .expect("get")
                .expect("row");
            assert_eq!(status.boot_id.as_deref(), Some("last"));
            drop(conn);
            pool.close().await;
        }
    }
}
