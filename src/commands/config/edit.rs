//! `fleet config edit`.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use super::apply::parse_document;
use super::{LevelArgs, MessageArgs};
use crate::api::config::PutConfig;
use crate::context::Context;
use crate::error::{Error, Result};

/// Edit a document in $VISUAL or $EDITOR; it is checked before it is sent
///
/// The document opens as indented JSON (secret values read "***": leave them to keep them).
/// What you save must be one JSON object; it is sent only at the revision you opened, so a
/// change made meanwhile by someone else is not overwritten. If the edit is not valid JSON,
/// or the service refuses it (its schema, a concurrent change), the edit is kept in a file
/// and the error says where, for `fleet config apply --file`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet config edit -P indoor-sensor -m 'tune sampling'\n  \
    EDITOR=nano fleet config edit -P indoor-sensor --cohort beta")]
pub struct EditArgs {
    #[command(flatten)]
    pub level: LevelArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Runs the editor on `path` through the shell, so `EDITOR="code --wait"` works.
fn run_editor(path: &Path) -> Result<()> {
    let editor = editor();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|err| Error::failure(format!("could not start `{editor}`")).with_source(err))?;
    if !status.success() {
        return Err(Error::cancelled(format!("`{editor}` exited with {status}"))
            .hint(format!("your edit is kept in {}", path.display())));
    }
    Ok(())
}

fn kept(err: Error, path: &Path, level: &LevelArgs) -> Error {
    let mut apply = String::from("fleet config apply");
    match (&level.product, &level.cohort, &level.device) {
        (_, _, Some(device)) => apply += &format!(" --device {device}"),
        (Some(product), cohort, None) => {
            apply += &format!(" -P {product}");
            if let Some(cohort) = cohort {
                apply += &format!(" --cohort {cohort}");
            }
        }
        (None, _, None) => {}
    }
    err.hint(format!(
        "your edit is kept in {path}; fix it and run `{apply} --file {path}`",
        path = path.display()
    ))
}

pub async fn run(ctx: &Context, args: EditArgs) -> Result<()> {
    let target = args.level.target()?;
    let configs = ctx.client()?.configs();
    let current = configs.get(target, false).await?;
    let text = serde_json::to_string_pretty(&current.document)
        .map_err(|err| Error::failure("could not encode the document").with_source(err))?
        + "\n";
    let path: PathBuf = std::env::temp_dir().join(format!(
        "fleet-config-{}-r{}-{}.json",
        current.product,
        current.revision,
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(&path, &text).map_err(|err| crate::error::io_error("write", &path, err))?;
    run_editor(&path)?;
    let edited =
        std::fs::read_to_string(&path).map_err(|err| crate::error::io_error("read", &path, err))?;
    if edited == text {
        let _ = std::fs::remove_file(&path);
        ctx.printer.status("no change; nothing was sent");
        return Ok(());
    }
    let document = parse_document(&edited, "the edited document")
        .map_err(|err| kept(err, &path, &args.level))?;
    let body = PutConfig {
        document,
        secrets: Vec::new(),
        message: args.message.message,
    };
    let config = configs
        .put(target, &body, Some(current.revision))
        .await
        .map_err(|err| kept(err, &path, &args.level))?;
    let _ = std::fs::remove_file(&path);
    ctx.printer.config(&config)?;
    ctx.printer
        .status(&format!("saved as revision {}", config.revision));
    Ok(())
}
