//! `fleet config apply`.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};

use super::{LevelArgs, MessageArgs};
use crate::api::config::PutConfig;
use crate::context::Context;
use crate::error::{Error, Result};

/// Replace a whole document with a JSON object from a file, or stdin with `-`
///
/// Secret values given as "***" (as `fleet config show` prints them) keep their stored value.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config apply -P indoor-sensor --file config.json -m 'from git'\n  \
    fleet config show -P indoor-sensor | jq '.rate = 5' \\\n    \
    | fleet config apply -P indoor-sensor --file -")]
pub struct ApplyArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    /// A JSON object; `-` reads stdin
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: PathBuf,

    /// Mark these dotted key paths secret (repeatable)
    #[arg(long, value_name = "KEY")]
    pub secret: Vec<String>,

    #[command(flatten)]
    pub message: MessageArgs,
}

/// A JSON object read from `text`; `what` names where it came from.
pub fn parse_document(text: &str, what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::usage(format!("{what} is not a JSON object"))
            .hint("a configuration is one object, e.g. {\"log\": \"info\"}")),
        Err(err) => Err(Error::usage(format!(
            "{what} is not valid JSON: {err} (line {}, column {})",
            err.line(),
            err.column()
        ))),
    }
}

pub async fn run(ctx: &Context, args: ApplyArgs) -> Result<()> {
    let (text, what) = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Error::failure("could not read stdin").with_source(err))?;
        (text, "stdin".to_owned())
    } else {
        let text = std::fs::read_to_string(&args.file).map_err(|err| {
            Error::usage(format!("could not read {}", args.file.display())).with_source(err)
        })?;
        (text, args.file.display().to_string())
    };
    let body = PutConfig {
        document: parse_document(&text, &what)?,
        secrets: args.secret,
        message: args.message.message,
    };
    let target = args.level.target()?;
    let config = ctx.client()?.configs().put(target, &body, None).await?;
    ctx.printer.config(&config)?;
    ctx.printer
        .status(&format!("saved as revision {}", config.revision));
    Ok(())
}
