//! The rollout controller of a running service: every so often it evaluates the releases whose
//! next schedule step is due, at the time of the service's clock (see
//! `domain::firmware::rollout`). Each replica runs one; the evaluation is safe to run on several
//! at once. Guards are also checked on every final report, so a tick is only needed for steps.

use tokio::task::JoinHandle;

use super::domain::firmware::rollout;
use super::state::AppState;

/// The running task; it ends when its stop signal fires.
pub struct Controller {
    task: JoinHandle<()>,
}

impl Controller {
    /// Evaluates every `state.rollout_interval` until `stop` resolves.
    pub fn start(state: AppState, stop: impl Future<Output = ()> + Send + 'static) -> Controller {
        let period = state
            .rollout_interval
            .max(std::time::Duration::from_millis(10));
        let task = tokio::spawn(async move {
            tokio::pin!(stop);
            // The first look one period after start: nothing is more due at start than later.
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    _ = ticks.tick() => {}
                }
                // Stopping mid-evaluation rolls its open transaction back; nothing is lost.
                tokio::select! {
                    () = &mut stop => return,
                    () = evaluate_once(&state) => {}
                }
            }
        });
        Controller { task }
    }

    /// Waits for the task to end (after its stop signal).
    pub async fn join(self) {
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "the rollout controller failed");
        }
    }
}

async fn evaluate_once(state: &AppState) {
    match rollout::evaluate(&state.pool, state.clock.now()).await {
        Ok(done) if done != rollout::Evaluation::default() => tracing::info!(
            advanced = done.advanced,
            halted = done.halted,
            "rollout evaluation"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err.body.message, "the rollout evaluation failed"),
    }
}
