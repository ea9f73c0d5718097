//! `fleet firmware push`: a build artifact from disk to a ready (signed, released) binary.

use std::path::PathBuf;

use clap::Args;

use super::{local, preflight, steps, test_hooks};
use crate::api::{Binary, BinaryState, BinaryUpload, CreateBinary, PartTarget};
use crate::client::ApiClient;
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::output::wording::count_of;
use crate::output::{Printer, PushResult, Released};

/// Upload a firmware file: find or create the artifact and version, upload the parts the
/// service lacks, verify, sign, and optionally release it to a cohort
///
/// Pushing the same file again uploads nothing. An interrupted push resumes where it stopped.
/// The key files, product, cohort and firmware policy are checked before anything is uploaded.
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet firmware push [OPTIONS] <FILE> --product <PRODUCT>\n       --artifact <ARTIFACT> --version <VERSION> --target <TARGET>",
    disable_version_flag = true,
    after_help = "Examples:\n  \
    fleet firmware push build/app.img -P indoor-sensor --artifact app \\\n    \
    --version 1.4.0 --target armv7-unknown-linux-gnueabihf -k release.pem\n  \
    fleet firmware push app.img -P indoor-sensor -a app --version 1.4.0 -t armv7 \\\n    \
    --release-to beta --rollout 10"
)]
pub struct PushArgs {
    /// The file to upload
    pub file: PathBuf,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// Artifact (firmware type, e.g. `app`); created when missing
    #[arg(long, short = 'a')]
    pub artifact: String,

    /// Version string, e.g. 1.4.0; created when missing
    #[arg(id = "artifact_version", long = "version", value_name = "VERSION")]
    pub version: String,

    /// Hardware target, e.g. armv7-unknown-linux-gnueabihf
    #[arg(long, short = 't')]
    pub target: String,

    /// Sign with this Ed25519 private key (PKCS#8 PEM); repeatable
    #[arg(long, value_name = "KEYFILE")]
    pub sign_key: Vec<PathBuf>,

    /// Release the binary to this cohort of the product (as a one-binary bundle); needs
    /// --rollout, e.g. `--release-to beta --rollout 10`
    #[arg(long, value_name = "COHORT", requires = "rollout")]
    pub release_to: Option<String>,

    /// Share of the cohort's devices to roll out to (0–100), required with --release-to: start
    /// small (e.g. 10) and raise it later with `fleet release update ID --rollout 50`
    #[arg(long, value_name = "PERCENT", requires = "release_to",
        value_parser = clap::value_parser!(u8).range(0..=100))]
    pub rollout: Option<u8>,

    /// Description of the version, when it is created
    #[arg(long, short = 'd')]
    pub description: Option<String>,

    /// Parts uploaded at once; memory use is about this many parts
    #[arg(long, value_name = "N", default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=32))]
    pub parallel: u16,
}

pub async fn run(ctx: &Context, args: PushArgs) -> Result<()> {
    let client = ctx.client()?;
    let printer = &ctx.printer;
    let before = local::snapshot(&args.file)?;
    let plan = preflight::Plan {
        product: &args.product,
        artifact: &args.artifact,
        version: &args.version,
        target: &args.target,
        sign_keys: &args.sign_key,
        release_to: args.release_to.as_deref(),
    };
    let keys = preflight::check(client, &plan).await?;
    steps::ensure_version(
        client,
        &args.product,
        &args.artifact,
        &args.version,
        args.description.as_deref(),
    )
    .await?;
    // Declared by size: the file is hashed while its parts go out, and the digest is named on
    // completion, so hashing and sending overlap instead of following each other.
    let mut body = CreateBinary {
        target: args.target.clone(),
        size: before.size,
        sha256: None,
    };
    let fw = client.firmware();
    let upload = fw
        .create_binary(&args.product, &args.artifact, &args.version, &body)
        .await?;
    let mut binary = upload.binary.clone();
    if binary.state == BinaryState::Ready {
        let progress = printer.progress("hashing", before.size);
        let sha256 = local::hash_file(&args.file, &progress, None).await?;
        progress.finish();
        if binary.sha256 != sha256 {
            // Declared with its digest, the file meets the service's refusal (a ready binary
            // is immutable), which says what is there.
            body.sha256 = Some(sha256.clone());
            let fw = client.firmware();
            binary = fw
                .create_binary(&args.product, &args.artifact, &args.version, &body)
                .await?
                .binary;
        }
        printer.status(&format!(
            "already uploaded: {} {} for {} ({}, sha256 {sha256})",
            args.artifact, args.version, args.target, binary.id
        ));
    } else {
        let mut whole = None;
        let uploaded = send_and_complete(client, printer, &args, &upload, &before, &mut whole);
        // Ctrl-C during the upload ends the push with what to do next; the parts the service
        // holds stay for the next run.
        let outcome = tokio::select! {
            outcome = uploaded => outcome,
            _ = tokio::signal::ctrl_c() => return Err(interrupted(&args, &binary)),
        };
        match (outcome, whole) {
            (Ok((sent, ready)), _) => {
                binary = ready;
                printer.status(&format!(
                    "uploaded {} {} for {} ({} bytes, {sent} of {} parts sent, sha256 {}): {}",
                    args.artifact,
                    args.version,
                    args.target,
                    before.size,
                    upload.parts.len(),
                    binary.sha256,
                    binary.id
                ));
            }
            // Another push of this very file finished first: its result is what was asked.
            (Err(err), Some(sha256)) if err.kind == ErrorKind::Rejected => {
                binary = finished_by_another(client, &binary, &sha256, before.size, err).await?;
                printer.status(&format!(
                    "already uploaded: {} {} for {} ({}, sha256 {sha256}), by another push \
                     that finished first",
                    args.artifact, args.version, args.target, binary.id
                ));
            }
            (Err(err), _) => return Err(err),
        }
    }
    let signatures = binary.signatures.len();
    binary = steps::sign(client, binary.clone(), &keys)
        .await
        .map_err(|err| left_unsigned(err, &args, &binary))?;
    if binary.signatures.len() > signatures {
        let added = (binary.signatures.len() - signatures) as u64;
        printer.status(&format!("signed with {}", count_of(added, "key", "keys")));
    }
    let result = match (&args.release_to, args.rollout) {
        (Some(cohort), Some(rollout)) => {
            let (bundle, release) =
                steps::release(client, printer, &binary, cohort, rollout).await?;
            printer.status(&format!(
                "released bundle `{}` to cohort `{cohort}` at {}% ({})",
                bundle.name, release.rollout_percent, release.id
            ));
            PushResult::Released(Box::new(Released {
                binary,
                bundle,
                release,
            }))
        }
        // clap makes --release-to and --rollout come together.
        _ => PushResult::Binary(Box::new(binary)),
    };
    ctx.printer.show(&result)
}

/// Sends the parts the service lacks while hashing the whole file beside them, then
/// completes the upload with that digest (put in `whole` once known). How many parts were
/// sent, and the ready binary.
async fn send_and_complete(
    client: &ApiClient,
    printer: &Printer,
    args: &PushArgs,
    upload: &BinaryUpload,
    before: &local::Snapshot,
    whole: &mut Option<String>,
) -> Result<(usize, Binary)> {
    let hashing = printer.progress_beside("hashing", before.size);
    let parallel = usize::from(args.parallel);
    let (crc_writer, crcs) = match tiling_sizes(&upload.parts) {
        Some(sizes) => {
            let (writer, crcs) = local::part_crcs(sizes);
            (Some(writer), Some(crcs))
        }
        None => (None, None),
    };
    let (sent, sha256) = tokio::join!(
        steps::upload_missing(
            client,
            printer,
            (&args.file, crcs.as_ref()),
            upload,
            parallel
        ),
        local::hash_file(&args.file, &hashing, crc_writer),
    );
    hashing.finish();
    // A file changed meanwhile shows up as a refused part or a digest that does not verify,
    // which is not what to tell the user.
    let changed_or = |err: Error| match local::snapshot(&args.file) {
        Ok(now) if now == *before => err,
        _ => changed(&args.file),
    };
    let sha256 = sha256.map_err(changed_or)?;
    test_hooks::mutate_after_hash(&args.file)?;
    *whole = Some(sha256.clone());
    let sent = sent.map_err(changed_or)?;
    if local::snapshot(&args.file)? != *before {
        return Err(changed(&args.file));
    }
    let ready = client
        .firmware()
        .complete(upload.binary.id.as_str(), Some(&sha256))
        .await
        .map_err(|err| match err.kind {
            ErrorKind::Rejected => err.hint("run the same command again: it re-hashes the file"),
            _ => err,
        })?;
    Ok((sent, ready))
}

/// The parts' sizes in order when they are numbered 1, 2, … and tile the file from its start
/// (as the service lays them out): then the hashing pass takes each part's CRC32C on its way.
/// Any other layout gets `None`, and each part's checksum is read from its own range.
fn tiling_sizes(parts: &[PartTarget]) -> Option<Vec<u64>> {
    let mut sorted: Vec<&PartTarget> = parts.iter().collect();
    sorted.sort_by_key(|part| part.number);
    let mut offset: u64 = 0;
    let mut sizes = Vec::with_capacity(sorted.len());
    for (index, part) in sorted.iter().enumerate() {
        if part.number != index as u64 + 1 || part.offset != offset {
            return None;
        }
        offset = offset.checked_add(part.size)?;
        sizes.push(part.size);
    }
    Some(sizes)
}

/// The push was interrupted (Ctrl-C) while uploading: cancelled, resumable.
fn interrupted(args: &PushArgs, binary: &Binary) -> Error {
    Error::cancelled(format!(
        "push interrupted: {} {} for {} ({}) is not complete",
        args.artifact, args.version, args.target, binary.id
    ))
    .hint(
        "run the same command again to resume: it sends only the parts the service does not \
         have yet",
    )
}

/// The binary as another push left it, when that push completed this very file (`sha256`,
/// `size`) while this one was uploading; otherwise `err`, the refusal this push got.
async fn finished_by_another(
    client: &ApiClient,
    ours: &Binary,
    sha256: &str,
    size: u64,
    err: Error,
) -> Result<Binary> {
    match client.firmware().binary(ours.id.as_str()).await {
        Ok(now) if now.state == BinaryState::Ready && now.sha256 == sha256 && now.size == size => {
            Ok(now)
        }
        _ => Err(err),
    }
}

/// A signing failure after the upload: the error keeps its own exit code (2 for an unusable key
/// file, 6 for a key the service does not know, 8 for the network), never 1, and says what the
/// push left behind and how to finish it.
fn left_unsigned(err: Error, args: &PushArgs, binary: &Binary) -> Error {
    let (released, finish) = match &args.release_to {
        Some(cohort) => (
            format!(", and nothing was released to `{cohort}`"),
            "signs and releases",
        ),
        None => (String::new(), "signs"),
    };
    err.hint(format!(
        "{} {} for {} is uploaded and ready ({}) but not signed with every --sign-key{released}; \
         once the key works, run the same push again: it uploads nothing and only {finish}",
        args.artifact, args.version, args.target, binary.id,
    ))
}

fn changed(file: &std::path::Path) -> Error {
    Error::failure(format!(
        "`{}` changed while it was being pushed; nothing was completed",
        file.display()
    ))
    .hint("run the same command again once the file is final: only changed parts are sent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u64, offset: u64, size: u64) -> PartTarget {
        PartTarget {
            number,
            offset,
            size,
            url: String::new(),
        }
    }

    #[test]
    fn only_parts_that_tile_the_file_from_its_start_get_their_crc32c_from_the_hash_pass() {
        let tiled = [part(2, 8, 3), part(1, 0, 8)];
        assert_eq!(tiling_sizes(&tiled), Some(vec![8, 3]));
        assert_eq!(tiling_sizes(&[]), Some(vec![]));
        let gap = [part(1, 0, 8), part(2, 9, 3)];
        assert_eq!(tiling_sizes(&gap), None);
        let from_two = [part(2, 0, 8)];
        assert_eq!(tiling_sizes(&from_two), None);
        let repeated = [part(1, 0, 8), part(1, 0, 8)];
        assert_eq!(tiling_sizes(&repeated), None);
    }
}
