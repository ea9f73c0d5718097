//! The steps of `fleet firmware push` after the checks: find-or-create the artifact and
//! version, upload the parts the service lacks (bounded parallelism), sign, bundle and release.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use futures_util::{StreamExt as _, TryStreamExt as _};

use super::preflight::ReadyKey;
use super::{local, test_hooks};
use crate::api::firmware::digest_bytes;
use crate::api::{
    AddSignature, Binary, BinaryUpload, Bundle, CreateArtifact, CreateBundle, CreateRelease,
    CreateVersion, PartTarget, ReceivedPart, Release, ReleaseListQuery,
};
use crate::client::ApiClient;
use crate::error::{Error, ErrorKind, Result};
use crate::output::Printer;

/// `get`, and on 404 `create`; a create that lost a race (409) reads the winner.
pub async fn find_or_create<T, G, C>(get: impl Fn() -> G, create: impl FnOnce() -> C) -> Result<T>
where
    G: Future<Output = Result<T>>,
    C: Future<Output = Result<T>>,
{
    match get().await {
        Err(err) if err.kind == ErrorKind::NotFound => match create().await {
            // Lost a race to another creator, or refused (archived product): say why.
            Err(err) if err.kind == ErrorKind::Rejected => get().await.map_err(|_| err),
            other => other,
        },
        other => other,
    }
}

pub async fn ensure_version(
    client: &ApiClient,
    product: &str,
    artifact: &str,
    version: &str,
    description: Option<&str>,
) -> Result<()> {
    let fw = &client.firmware();
    find_or_create(
        || fw.artifact(product, artifact),
        || {
            let body = CreateArtifact {
                name: artifact.to_owned(),
                description: None,
            };
            async move { fw.create_artifact(product, &body).await }
        },
    )
    .await?;
    find_or_create(
        || fw.version(product, artifact, version),
        || {
            let body = CreateVersion {
                version: version.to_owned(),
                description: description.map(str::to_owned),
            };
            async move { fw.create_version(product, artifact, &body).await }
        },
    )
    .await?;
    Ok(())
}

/// Uploads every part the service does not hold (or holds with other bytes), each with its
/// CRC32C: as the hashing pass reads it (`crcs`), or read from the part's range of the file.
/// Returns how many parts were sent.
pub async fn upload_missing(
    client: &ApiClient,
    printer: &Printer,
    (path, crcs): (&Path, Option<&local::PartCrcs>),
    upload: &BinaryUpload,
    parallel: usize,
) -> Result<usize> {
    let id = upload.binary.id.as_str();
    let received: HashMap<u64, ReceivedPart> = client
        .firmware()
        .parts(id)
        .await?
        .received
        .into_iter()
        .map(|p| (p.number, p))
        .collect();
    let mut todo = Vec::new();
    for part in &upload.parts {
        match received.get(&part.number) {
            // A part from an earlier run counts only if it holds this file's bytes.
            Some(held) if holds(path, part, held).await? => {}
            _ => todo.push(part.clone()),
        }
    }
    if todo.is_empty() {
        return Ok(0);
    }
    let kept = upload.parts.len() - todo.len();
    if kept > 0 {
        printer.status(&format!(
            "resuming: {kept} of {} parts are already there",
            upload.parts.len()
        ));
    }
    let needed = todo.len();
    let stop = test_hooks::stop_after_parts();
    if let Some(stop) = stop {
        todo.truncate(stop);
    }
    let total: u64 = todo.iter().map(|p| p.size).sum();
    let progress = printer.progress("uploading", total);
    let later = match test_hooks::pause_after_parts() {
        Some(pause) if pause < todo.len() => todo.split_off(pause),
        _ => Vec::new(),
    };
    let send = |parts: Vec<PartTarget>| {
        let progress = &progress;
        futures_util::stream::iter(parts)
            .map(move |part| async move {
                let crc32c = match crcs {
                    Some(crcs) => crcs.get(part.number).await?,
                    None => local::crc32c_range(path, part.offset, part.size).await?,
                };
                let body = || {
                    let stream = local::range_stream(path, part.offset, part.size);
                    reqwest::Body::wrap_stream(stream)
                };
                let fw = client.firmware();
                fw.put_part(id, part.number, part.size, body, &crc32c)
                    .await?;
                progress.add(part.size);
                Ok::<_, Error>(())
            })
            .buffer_unordered(parallel.max(1))
            .try_fold(0usize, |n, ()| async move { Ok(n + 1) })
    };
    let mut sent = send(todo).await;
    if !later.is_empty() {
        if let Ok(first) = sent {
            test_hooks::pause().await?;
            sent = send(later).await.map(|rest| first + rest);
        }
    }
    progress.finish();
    let sent = sent?;
    if stop.is_some() && sent < needed {
        return Err(Error::failure(format!(
            "stopped after {sent} of {needed} parts ({})",
            test_hooks::stop_reason()
        )));
    }
    Ok(sent)
}

/// Whether the part the service `held` has the bytes of `part` of the file: by its CRC32C, or
/// by its SHA-256 when it was sent with one.
async fn holds(path: &Path, part: &PartTarget, held: &ReceivedPart) -> Result<bool> {
    if held.size != part.size {
        return Ok(false);
    }
    Ok(match (&held.crc32c, &held.sha256) {
        (Some(crc32c), _) => *crc32c == local::crc32c_range(path, part.offset, part.size).await?,
        (None, Some(sha256)) => *sha256 == local::hash_range(path, part.offset, part.size).await?,
        (None, None) => false,
    })
}

/// Adds a signature per key, skipping keys that already signed this binary.
pub async fn sign(client: &ApiClient, binary: Binary, keys: &[ReadyKey]) -> Result<Binary> {
    if keys.is_empty() {
        return Ok(binary);
    }
    let digest = digest_bytes(&binary.sha256)
        .ok_or_else(|| Error::failure("the service returned a malformed digest"))?;
    let mut binary = binary;
    for ready in keys {
        if binary.signatures.iter().any(|s| s.key_id == ready.id) {
            continue;
        }
        let body = AddSignature {
            key: ready.id.to_string(),
            signature: STANDARD.encode(ready.key.sign(&digest).to_bytes()),
        };
        binary = client.firmware().sign(binary.id.as_str(), &body).await?;
    }
    Ok(binary)
}

/// A bundle name for one binary: `<artifact>-<version>-<target>` in the name charset.
pub fn bundle_name(binary: &Binary) -> String {
    let raw = format!("{}-{}-{}", binary.artifact, binary.version, binary.target);
    raw.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

/// The one-binary bundle for `binary` (reused when it exists) released to `cohort`, unless the
/// cohort's current release already is exactly that.
pub async fn release(
    client: &ApiClient,
    printer: &Printer,
    binary: &Binary,
    cohort: &str,
    rollout: u8,
) -> Result<(Bundle, Release)> {
    let fw = &client.firmware();
    let product = binary.product_id.as_str();
    let name = bundle_name(binary);
    let bundle = find_or_create(
        || fw.bundle(product, &name),
        || {
            let body = CreateBundle {
                name: name.clone(),
                description: None,
                binaries: vec![binary.id.to_string()],
            };
            async move { fw.create_bundle(product, &body).await }
        },
    )
    .await?;
    if bundle.binaries.len() != 1 || bundle.binaries[0].binary_id != binary.id {
        return Err(Error::new(
            ErrorKind::Rejected,
            format!("bundle `{name}` exists with other binaries"),
        )
        .hint("create a bundle yourself with `fleet bundle create` and `fleet release create`"));
    }
    let query = ReleaseListQuery {
        cohort: Some(cohort.to_owned()),
        ..Default::default()
    };
    let history: Vec<Release> = fw
        .releases_up_to(product, query, None)
        .try_collect()
        .await?;
    if let Some(current) = history.last() {
        if current.bundle_id == bundle.id && current.rollout_percent == rollout {
            printer.status(&format!("cohort `{cohort}` already runs this release"));
            return Ok((bundle, current.clone()));
        }
    }
    let body = CreateRelease {
        cohort: cohort.to_owned(),
        bundle: bundle.id.to_string(),
        rollout_percent: Some(rollout),
        required: None,
        ..Default::default()
    };
    let release = fw.create_release(product, &body).await?;
    Ok((bundle, release))
}
