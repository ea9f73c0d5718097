//! `fleet config history`.

use clap::Args;

use super::LevelArgs;
use crate::context::Context;
use crate::error::Result;

/// List a document's revisions, newest first: who made each, when, and why
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config history -P indoor-sensor\n  \
    fleet config history --device sn-0042 --limit 5 -o json")]
pub struct HistoryArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    /// At most N revisions (1–1000)
    #[arg(long, default_value_t = 20)]
    pub limit: u32,

    /// Only revisions older than this one
    #[arg(long, value_name = "REV")]
    pub before: Option<i64>,
}

pub async fn run(ctx: &Context, args: HistoryArgs) -> Result<()> {
    let target = args.level.target()?;
    let page = ctx
        .client()?
        .configs()
        .revisions(target, Some(args.limit), args.before)
        .await?;
    ctx.printer.config_revisions(&page)?;
    if let Some(before) = page.next_before {
        ctx.printer
            .hint(&format!("older revisions follow: pass --before {before}"));
    }
    Ok(())
}
