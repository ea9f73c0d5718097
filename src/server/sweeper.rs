//! The background housekeeping task of a running service: every so often it runs the firmware
//! sweep (expire idle uploads, collect orphaned part objects). Started by `Server::serve`,
//! stopped when the service shuts down; the time it sweeps at comes from a clock the caller
//! gives, so a test can drive it without waiting.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::domain::firmware::lifecycle;
use super::periodic::Periodic;
use super::state::AppState;

/// Where the sweep takes "now" from.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The shortest and longest time between two sweeps.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// How often to sweep for an upload expiry: a quarter of it, so an idle upload goes at most
/// a quarter late, between a second and an hour.
pub fn interval(expiry: Duration) -> Duration {
    (expiry / 4).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Sweeps every [`interval`] of the state's upload expiry, the first time one interval from
/// now (crash leftovers of the previous run are not urgent), until `stop` resolves.
pub fn start(
    state: AppState,
    clock: Clock,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Periodic {
    let expiry = state.firmware.upload_expiry;
    // A sweep dropped half-way rolls its transactions back; blobs not deleted yet are
    // collected by the next one.
    Periodic::start("sweep", interval(expiry), stop, move || {
        let (state, now) = (state.clone(), clock());
        async move { sweep_once(&state, now, expiry).await }
    })
}

async fn sweep_once(state: &AppState, now: DateTime<Utc>, expiry: Duration) {
    match lifecycle::sweep(&state.pool, &state.firmware, now, expiry).await {
        Ok(report) if report != lifecycle::SweepReport::default() => tracing::info!(
            expired = report.expired,
            prefixes_removed = report.prefixes_removed,
            objects_removed = report.objects_removed,
            "firmware sweep"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err.body.message, "the firmware sweep failed"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A state whose sweeps fail at once (closed database pools): only the schedule
    /// matters here; what a sweep does is tested against a real data dir.
    async fn state(_dir: &std::path::Path, expiry: Duration) -> AppState {
        let pool = crate::server::store::Pool::closed().await;
        let mut state = AppState::new(pool, 1024);
        let firmware = crate::server::domain::firmware::Firmware::in_memory();
        state.shared_mut().firmware = Arc::new(firmware.with_upload_expiry(expiry));
        state
    }

    #[tokio::test(start_paused = true)]
    async fn sweeps_once_an_interval_at_the_clocks_time_until_stopped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let expiry = Duration::from_secs(8 * 3600);
        let period = interval(expiry);
        assert_eq!(period, Duration::from_secs(3600));
        let (swept_tx, mut swept) = tokio::sync::mpsc::unbounded_channel();
        let fake_now: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().expect("time");
        let calls = Arc::new(Mutex::new(0u32));
        let counted = calls.clone();
        let clock: Clock = Arc::new(move || {
            *counted.lock().expect("lock") += 1;
            let _ = swept_tx.send(tokio::time::Instant::now());
            fake_now
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let started = tokio::time::Instant::now();
        let sweeper = start(state(dir.path(), expiry).await, clock, async {
            let _ = stop_rx.await;
        });

        let first = swept.recv().await.expect("a first sweep");
        assert_eq!(first - started, period, "not before one interval");
        let second = swept.recv().await.expect("a second sweep");
        assert_eq!(second - first, period);

        let _ = stop_tx.send(());
        sweeper.join().await;
        let after_stop = *calls.lock().expect("lock");
        tokio::time::sleep(period * 3).await;
        assert_eq!(
            *calls.lock().expect("lock"),
            after_stop,
            "no sweep after stop"
        );
        assert!(
            swept.recv().await.is_none(),
            "the task and its clock are gone"
        );
    }

    #[test]
    fn the_interval_is_a_quarter_of_the_expiry_within_bounds() {
        assert_eq!(interval(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(interval(Duration::from_secs(2)), MIN_INTERVAL);
        assert_eq!(interval(Duration::from_secs(7 * 24 * 3600)), MAX_INTERVAL);
    }
}
