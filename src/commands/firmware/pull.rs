//! `fleet firmware pull`: download into a temporary file beside the target, verify, then rename,
//! so a failed or corrupted download never leaves a partial file behind.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};

use super::local::hex;
use super::show::{BinaryRef, find};
use crate::context::Context;
use crate::error::{Error, Result, io_error};

/// Download a ready binary to a file, verifying its SHA-256
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet firmware pull [OPTIONS] --product <PRODUCT> --artifact <ARTIFACT>\n       --version <VERSION> --target <TARGET> --out <FILE>",
    disable_version_flag = true,
    after_help = "Example:\n  \
    fleet firmware pull -P indoor-sensor -a app --version 1.4.0 -t armv7 \\\n    \
    --out app.img"
)]
pub struct PullArgs {
    #[command(flatten)]
    pub binary: BinaryRef,
    /// Where to write the file; an existing file is refused unless --force
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace FILE if it exists (only once the download verified)
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Context, args: PullArgs) -> Result<()> {
    // Checked before downloading anything, and again by the final no-clobber rename.
    if !args.force && args.out.symlink_metadata().is_ok() {
        return Err(exists(&args.out));
    }
    let client = ctx.client()?;
    let binary = find(client, &args.binary).await?;
    let dir = match args.out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|err| io_error("create a file in", &dir, err))?;
    let response = client.firmware().download(binary.id.as_str()).await?;
    let progress = ctx.printer.progress("downloading", binary.size);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            Error::new(
                crate::error::ErrorKind::Unavailable,
                "the download broke off",
            )
            .with_source(err)
            .hint("run the same command again")
        })?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        temp.write_all(&chunk)
            .map_err(|err| io_error("write", temp.path(), err))?;
        progress.add(chunk.len() as u64);
    }
    progress.finish();
    let digest = hex(&hasher.finalize());
    if digest != binary.sha256 || size != binary.size {
        // Dropping `temp` deletes it: nothing partial stays behind.
        return Err(Error::failure(format!(
            "the download of {} has SHA-256 {digest} ({size} bytes), not {} ({} bytes); \
             `{}` was not written",
            binary.id,
            binary.sha256,
            binary.size,
            args.out.display()
        ))
        .hint("run the same command again; if it persists, check the service's storage"));
    }
    temp.as_file()
        .sync_all()
        .map_err(|err| io_error("write", temp.path(), err))?;
    let persisted = if args.force {
        temp.persist(&args.out)
    } else {
        temp.persist_noclobber(&args.out)
    };
    persisted.map_err(|err| match err.error.kind() {
        std::io::ErrorKind::AlreadyExists => exists(&args.out),
        _ => io_error("write", &args.out, err.error),
    })?;
    ctx.printer.status(&format!(
        "wrote `{}` ({size} bytes, sha256 {digest} verified)",
        args.out.display()
    ));
    Ok(())
}

/// An existing `--out` file is a usage error (exit 2): the command line needs another path or
/// `--force`; nothing was asked of the service.
fn exists(path: &std::path::Path) -> Error {
    Error::usage(format!("`{}` already exists", path.display()))
        .hint("pass --force to replace it, or choose another --out FILE")
}
