//! A background task of a running service that runs one job every period, the first time one
//! period after start (nothing is more due at start than later), until its stop signal. A job
//! in progress when the signal fires is dropped: its open transactions roll back.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

/// The running task; it ends when its stop signal fires.
pub struct Periodic {
    name: &'static str,
    task: JoinHandle<()>,
}

impl Periodic {
    /// Runs `job` every `period` until `stop` resolves; `name` says which task in the log.
    pub fn start<F, Fut>(
        name: &'static str,
        period: Duration,
        stop: impl Future<Output = ()> + Send + 'static,
        mut job: F,
    ) -> Periodic
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let task = tokio::spawn(async move {
            tokio::pin!(stop);
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    _ = ticks.tick() => {}
                }
                tokio::select! {
                    () = &mut stop => return,
                    () = job() => {}
                }
            }
        });
        Periodic { name, task }
    }

    /// Waits for the task to end (after its stop signal).
    pub async fn join(self) {
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "the {} task failed", self.name);
        }
    }
}
