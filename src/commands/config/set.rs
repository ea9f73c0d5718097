//! `fleet config set`.

use clap::Args;
use serde_json::Map;

use super::{LevelArgs, MessageArgs};
use crate::api::config::{PatchConfig, parse_assignment};
use crate::context::Context;
use crate::error::{Error, Result};

/// Set keys by dotted path; each value is read as JSON, else taken as text
///
/// `rate=10` sets a number, `debug=true` a boolean, `log=info` the text "info", `net={"tls":true}`
/// an object, and `'name="42"'` the text "42". In an override, `key=null` removes the key from
/// the effective configuration. The change is one new revision, refused (nothing written) when
/// an effective configuration would not satisfy the product's schema.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config set -P indoor-sensor log.level=info sampling.rate=10 \\\n    \
    -m 'slower sampling'\n  \
    fleet config set -P indoor-sensor --cohort beta log.level=debug\n  \
    fleet config set --device sn-0042 sampling.rate=null\n  \
    fleet config set -P indoor-sensor --secret net.token=s3cr3t")]
pub struct SetArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    /// `key.path=value` pairs
    #[arg(required = true, value_name = "KEY=VALUE")]
    pub assignments: Vec<String>,

    /// Mark these keys secret: stored and sent to devices, shown to people as "***"
    #[arg(long)]
    pub secret: bool,

    #[command(flatten)]
    pub message: MessageArgs,
}

pub async fn run(ctx: &Context, args: SetArgs) -> Result<()> {
    let mut set = Map::new();
    for text in &args.assignments {
        let (path, value) = parse_assignment(text).map_err(|message| {
            Error::usage(message).hint("write each as key.path=value, e.g. log.level=debug")
        })?;
        set.insert(path, value);
    }
    let secrets = if args.secret {
        set.keys().cloned().collect()
    } else {
        Vec::new()
    };
    let body = PatchConfig {
        set,
        unset: Vec::new(),
        secrets,
        message: args.message.message,
    };
    let target = args.level.target()?;
    let config = ctx.client()?.configs().patch(target, &body).await?;
    ctx.printer.config(&config)?;
    ctx.printer
        .status(&format!("saved as revision {}", config.revision));
    Ok(())
}
