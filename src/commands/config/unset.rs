//! `fleet config unset`.

use clap::Args;
use serde_json::Map;

use super::{LevelArgs, MessageArgs};
use crate::api::config::{PatchConfig, split_path};
use crate::context::Context;
use crate::error::{Error, Result};

/// Remove keys by dotted path from a document
///
/// Removing a key from a cohort's or a device's override makes it inherit the value from the
/// levels above again (to remove a key from the effective configuration, set it to null).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config unset -P indoor-sensor sampling.rate\n  \
    fleet config unset --device sn-0042 log.level -m 'back to the cohort setting'")]
pub struct UnsetArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    /// Dotted key paths
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,

    #[command(flatten)]
    pub message: MessageArgs,
}

pub async fn run(ctx: &Context, args: UnsetArgs) -> Result<()> {
    for key in &args.keys {
        split_path(key).map_err(Error::usage)?;
    }
    let body = PatchConfig {
        set: Map::new(),
        unset: args.keys,
        secrets: Vec::new(),
        message: args.message.message,
    };
    let target = args.level.target()?;
    let config = ctx.client()?.configs().patch(target, &body).await?;
    ctx.printer.config(&config)?;
    ctx.printer
        .status(&format!("saved as revision {}", config.revision));
    Ok(())
}
