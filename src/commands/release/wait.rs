//! `--wait` for `fleet release status`: blocks until a release reaches a bar (its rollout at
//! `--until-rollout`, and with `--success-rate` that share of its finished devices succeeded),
//! is halted, or `--timeout` passes, printing one progress line whenever the figures change
//! (lines, never a redraw, so CI logs stay readable). Exit 0 when reached; exit 9 (`Unmet`) when
//! the release was halted or the success rate missed the bar; exit 3 on timeout. The figures
//! are the release's own: its rollout, state and its counts of finished and failed devices.

use std::future::Future;
use std::time::Duration;

use clap::Args;

use crate::api::{Release, RolloutState, parse_percent, parse_rate};
use crate::error::{Error, ErrorKind, Result};

/// The `--wait` flags.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Block until the release reaches the bar (exit 0), is halted or misses the bar (exit 9),
    /// or --timeout passes (exit 3)
    #[arg(long, conflicts_with = "watch")]
    pub wait: bool,
    /// The rollout percentage to wait for
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "100%",
        requires = "wait")]
    pub until_rollout: u8,
    /// Once the rollout is reached, at least this share of the devices that finished must have
    /// succeeded
    #[arg(long, value_name = "RATE", value_parser = parse_rate, requires = "wait")]
    pub success_rate: Option<f64>,
    /// Give up after this long
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
        default_value = "2h", requires = "wait")]
    pub timeout: Duration,
    /// How often to look
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
        default_value = "10s", requires = "wait")]
    pub poll: Duration,
}

/// Where a release stands against the bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Waiting,
    Reached,
    Halted,
    /// The rollout is reached and the success rate (percent) is below the bar.
    Missed(f64),
}

/// The share of the release's finished devices that succeeded, percent; `None` before any
/// device finished.
pub fn success_rate(release: &Release) -> Option<f64> {
    (release.final_reports > 0).then(|| {
        let succeeded = release.final_reports.saturating_sub(release.failed_reports);
        succeeded as f64 * 100.0 / release.final_reports as f64
    })
}

/// Judges `release` against the bar of `args`.
pub fn judge(release: &Release, args: &WaitArgs) -> Verdict {
    if release.state == RolloutState::Halted {
        return Verdict::Halted;
    }
    if release.rollout_percent < args.until_rollout {
        return Verdict::Waiting;
    }
    match (args.success_rate, success_rate(release)) {
        (None, _) => Verdict::Reached,
        // Nobody finished yet: nothing to judge the bar by.
        (Some(_), None) => Verdict::Waiting,
        (Some(bar), Some(rate)) if rate >= bar => Verdict::Reached,
        (Some(_), Some(rate)) => Verdict::Missed(rate),
    }
}

/// One progress line, e.g. `rel_…: 50% (step 3 of 4), active, 40 finished, 1 failed (97.5% succeeded)`.
pub fn progress_line(release: &Release) -> String {
    let step = match release.current_step {
        Some(step) => format!(" (step {step} of {})", release.schedule.len()),
        None => String::new(),
    };
    let rate = success_rate(release).map_or(String::new(), |r| format!(" ({r:.1}% succeeded)"));
    format!(
        "{}: {}%{step}, {}, {} finished, {} failed{rate}",
        release.id,
        release.rollout_percent,
        release.state,
        release.final_reports,
        release.failed_reports
    )
}

/// Polls `fetch` every `args.poll` until the verdict is final or `args.timeout` passed,
/// handing each changed progress line to `progress`. Returns the release as last seen when the
/// bar is reached.
pub async fn wait<F, Fut>(
    args: &WaitArgs,
    mut fetch: F,
    mut progress: impl FnMut(&str),
) -> Result<Release>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Release>>,
{
    let deadline = tokio::time::Instant::now() + args.timeout;
    let mut last_line = String::new();
    loop {
        let release = fetch().await?;
        let line = progress_line(&release);
        if line != last_line {
            progress(&line);
            last_line = line;
        }
        match judge(&release, args) {
            Verdict::Reached => return Ok(release),
            Verdict::Halted => {
                return Err(Error::new(
                    ErrorKind::Unmet,
                    format!(
                        "release {} was halted at {}%",
                        release.id, release.rollout_percent
                    ),
                )
                .hint(format!(
                    "see why with `fleet event list --resource {} --action release.halted`",
                    release.id
                )));
            }
            Verdict::Missed(rate) => {
                let bar = args.success_rate.unwrap_or(100.0);
                return Err(Error::new(
                    ErrorKind::Unmet,
                    format!(
                        "release {} reached {}% with {rate:.1}% of its finished devices \
                         succeeded, below the bar of {bar}%",
                        release.id, release.rollout_percent
                    ),
                ));
            }
            Verdict::Waiting => {}
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!(
                    "gave up waiting for release {} after {}",
                    release.id,
                    humantime::format_duration(args.timeout)
                ),
            )
            .hint("wait longer with --timeout"));
        }
        tokio::time::sleep(args.poll.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::api::{BundleId, CohortId, ProductId, ReleaseId};

    fn release(percent: u8, state: RolloutState, finished: u64, failed: u64) -> Release {
        let at = "2030-01-01T00:00:00Z".parse().expect("time");
        Release {
            id: ReleaseId::parse("rel_0190a1b2c3d4e5f60718293a4b5c6d7e").expect("id"),
            product_id: ProductId::generate(),
            product: "p".into(),
            cohort_id: CohortId::generate(),
            cohort: "c".into(),
            bundle_id: BundleId::generate(),
            bundle: "b".into(),
            rollout_percent: percent,
            required: false,
            previous_release_id: None,
            state,
            schedule: Vec::new(),
            current_step: None,
            step_applied_at: at,
            next_step_at: None,
            guard: None,
            final_reports: finished,
            failed_reports: failed,
            created_at: at,
            updated_at: at,
            revision: 1,
        }
    }

    fn args(success_rate: Option<f64>) -> WaitArgs {
        WaitArgs {
            wait: true,
            until_rollout: 100,
            success_rate,
            timeout: Duration::from_secs(3600),
            poll: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_bar_is_the_rollout_then_the_success_rate() {
        use RolloutState::*;
        assert_eq!(
            judge(&release(50, Active, 10, 0), &args(None)),
            Verdict::Waiting
        );
        assert_eq!(
            judge(&release(100, Completed, 0, 0), &args(None)),
            Verdict::Reached
        );
        assert_eq!(
            judge(&release(100, Active, 0, 0), &args(Some(98.0))),
            Verdict::Waiting
        );
        assert_eq!(
            judge(&release(100, Active, 50, 1), &args(Some(98.0))),
            Verdict::Reached
        );
        assert_eq!(
            judge(&release(100, Active, 50, 2), &args(Some(98.0))),
            Verdict::Missed(96.0)
        );
        assert_eq!(
            judge(&release(10, Halted, 20, 5), &args(None)),
            Verdict::Halted
        );
    }

    /// Serves `script` one release per poll (the last one for ever after).
    async fn run(script: Vec<Release>, args: &WaitArgs) -> (Result<Release>, Vec<String>) {
        let script = RefCell::new(script);
        let lines = RefCell::new(Vec::new());
        let result = wait(
            args,
            || {
                let mut script = script.borrow_mut();
                let next = if script.len() > 1 {
                    script.remove(0)
                } else {
                    script[0].clone()
                };
                async move { Ok(next) }
            },
            |line| lines.borrow_mut().push(line.to_owned()),
        )
        .await;
        (result, lines.into_inner())
    }

    #[tokio::test(start_paused = true)]
    async fn reached_halted_missed_and_timeout_end_with_their_exit_codes() {
        use RolloutState::*;
        let started = tokio::time::Instant::now();
        let (done, lines) = run(
            vec![
                release(10, Active, 0, 0),
                release(10, Active, 0, 0),
                release(50, Active, 4, 0),
                release(100, Completed, 40, 0),
            ],
            &args(Some(98.0)),
        )
        .await;
        assert_eq!(done.expect("reached").rollout_percent, 100);
        assert_eq!(lines.len(), 3, "one line per change: {lines:?}");
        assert!(lines[2].contains("100%, completed, 40 finished, 0 failed (100.0% succeeded)"));
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(30),
            "three polls apart"
        );

        let (halted, _) = run(vec![release(10, Halted, 20, 5)], &args(None)).await;
        assert_eq!(halted.expect_err("halted").exit_code(), 9);
        let (missed, _) = run(vec![release(100, Active, 10, 5)], &args(Some(98.0))).await;
        let missed = missed.expect_err("missed");
        assert_eq!(missed.exit_code(), 9);
        assert!(missed.message.contains("50.0%"), "{}", missed.message);

        let started = tokio::time::Instant::now();
        let (timed_out, lines) = run(vec![release(10, Active, 0, 0)], &args(None)).await;
        assert_eq!(timed_out.expect_err("timeout").exit_code(), 3);
        assert_eq!(started.elapsed(), Duration::from_secs(3600));
        assert_eq!(lines.len(), 1, "{lines:?}");
    }
}
