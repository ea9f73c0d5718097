//! `fleet config diff`.

use clap::Args;

use super::LevelArgs;
use crate::context::Context;
use crate::error::Result;

/// Show what changed between two revisions (to the current one when only one is given)
///
/// Each line is `+ path value` (added), `- path value` (removed) or `~ path old -> new`.
/// Revision 0 is the empty document before the first revision.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config diff 3 -P indoor-sensor          # revision 3 to now\n  \
    fleet config diff 3 5 -P indoor-sensor --cohort beta")]
pub struct DiffArgs {
    /// The older revision
    pub from: i64,

    /// The newer revision [default: the current one]
    pub to: Option<i64>,

    #[command(flatten)]
    pub level: LevelArgs,
}

pub async fn run(ctx: &Context, args: DiffArgs) -> Result<()> {
    let target = args.level.target()?;
    let diff = ctx
        .client()?
        .configs()
        .diff(target, args.from, args.to)
        .await?;
    ctx.printer.config_diff(&diff)
}
