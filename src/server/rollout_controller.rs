//! The rollout controller of a running service: every so often it evaluates the releases whose
//! next schedule step is due, at the time of the service's clock (see
//! `domain::firmware::rollout`). Each replica runs one; the evaluation is safe to run on several
//! at once. Guards are also checked on every final report, so a tick is only needed for steps.

use super::domain::firmware::rollout;
use super::periodic::Periodic;
use super::state::AppState;

/// Evaluates every `state.rollout_interval` (at least 10 ms) until `stop` resolves.
pub fn start(state: AppState, stop: impl Future<Output = ()> + Send + 'static) -> Periodic {
    let period = state
        .rollout_interval
        .max(std::time::Duration::from_millis(10));
    Periodic::start("rollout controller", period, stop, move || {
        let state = state.clone();
        async move { evaluate_once(&state).await }
    })
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
