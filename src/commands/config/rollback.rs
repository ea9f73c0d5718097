//! `fleet config rollback`.

use clap::Args;

use super::{LevelArgs, MessageArgs};
use crate::api::config::RollbackConfig;
use crate::context::Context;
use crate::error::Result;

/// Make an earlier revision's document current again, as a new revision
///
/// History is kept: the rollback is itself a revision, and can be rolled back.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config rollback 3 -P indoor-sensor -m 'rate 10 overloaded the backend'\n  \
    fleet config rollback 1 --device sn-0042")]
pub struct RollbackArgs {
    /// The revision whose document to restore
    pub revision: i64,

    #[command(flatten)]
    pub level: LevelArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

pub async fn run(ctx: &Context, args: RollbackArgs) -> Result<()> {
    let body = RollbackConfig {
        revision: args.revision,
        message: args.message.message,
    };
    let target = args.level.target()?;
    let config = ctx.client()?.configs().rollback(target, &body).await?;
    ctx.printer.config(&config)?;
    ctx.printer.status(&format!(
        "revision {} restores revision {}",
        config.revision, args.revision
    ));
    Ok(())
}
