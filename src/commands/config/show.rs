//! `fleet config show`.

use clap::Args;

use super::LevelArgs;
use crate::context::Context;
use crate::error::Result;

/// Show a configuration document, or with --effective what devices get
///
/// Without --effective: the level's own document (for a cohort or a device, the override
/// merged over the levels above). With --effective: the merge product ← cohort ← device as
/// JSON Merge Patch, where `null` in an override removes the key. Secret values read "***".
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config show -P indoor-sensor\n  \
    fleet config show -P indoor-sensor --cohort beta\n  \
    fleet config show --device sn-0042 --effective\n  \
    fleet config show -P indoor-sensor -o json | jq .revision")]
pub struct ShowArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    /// Merge in the levels above (what a device of this level receives)
    #[arg(long)]
    pub effective: bool,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let target = args.level.target()?;
    let config = ctx.client()?.configs().get(target, args.effective).await?;
    ctx.printer.config(&config)
}
