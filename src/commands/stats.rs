//! What `fleet product stats`, `fleet cohort stats` and `fleet release status` share: the
//! `--watch` flag and the loop that fetches and shows the figures, once or until Ctrl-C.

use std::future::Future;
use std::time::Duration;

use clap::Args;

use crate::api::Stats;
use crate::context::Context;
use crate::error::Result;

/// Seconds between refreshes when `--watch` is given without a number.
pub const DEFAULT_WATCH_SECS: u64 = 5;

#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    /// Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal;
    /// otherwise each refresh is appended (a separator line with its time; one JSON object per
    /// line with -o json)
    #[arg(long, value_name = "SECS", num_args = 0..=1,
        default_missing_value = "5",
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub watch: Option<u64>,
}

/// Shows what `fetch` returns: once, or every `--watch` seconds until Ctrl-C (exit 0). A
/// failed fetch ends the command with its error, watching or not.
pub async fn show<F, Fut>(ctx: &Context, watch: &WatchArgs, fetch: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Stats>>,
{
    let Some(every) = watch.watch else {
        let stats = fetch().await?;
        return ctx.printer.stats(&stats);
    };
    let every = Duration::from_secs(every);
    let mut screen = ctx.printer.stats_watch();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let stats = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            stats = fetch() => stats?,
        };
        screen.frame(&stats)?;
        tokio::select! {
            _ = &mut interrupted => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}
