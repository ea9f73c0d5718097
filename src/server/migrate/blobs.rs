//! Copying every firmware object from one blob store to another through the generic
//! [`Blobs`] interface (so any pair of stores works), then reading each copy back to prove it
//! has the source's size and SHA-256.

use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::server::blobs::Blobs;
use crate::server::hex;

/// What the blob copy did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BlobReport {
    /// Whether objects were copied; `false` when source and target are the same store.
    pub copied: bool,
    /// Objects in the source.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Objects read back from the target with the source's size and SHA-256.
    pub verified: u64,
}

/// An object's size and digest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    size: u64,
    sha256: String,
}

/// Copies every object of `from` into `to`, then verifies each; what differs is described in
/// the returned problems (empty when every copy matches).
pub async fn copy_all(from: &Blobs, to: &Blobs) -> anyhow::Result<(BlobReport, Vec<String>)> {
    let mut keys = from
        .keys("")
        .await
        .context("could not list the source's blobs")?;
    keys.sort();
    let mut report = BlobReport {
        copied: true,
        ..BlobReport::default()
    };
    let mut copied = Vec::with_capacity(keys.len());
    for key in keys {
        let fingerprint = copy_one(from, to, &key).await?;
        report.objects += 1;
        report.bytes += fingerprint.size;
        copied.push((key, fingerprint));
    }
    let problems = verify(to, &copied, &mut report).await?;
    Ok((report, problems))
}

/// Reads each object back from `to` and compares it with what was written.
async fn verify(
    to: &Blobs,
    copied: &[(String, Fingerprint)],
    report: &mut BlobReport,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (key, expected) in copied {
        match fingerprint(to, key).await {
            Ok(Some(found)) if &found == expected => report.verified += 1,
            Ok(Some(found)) => problems.push(format!(
                "blob `{key}`: the source has {} bytes with SHA-256 {}, the target {} bytes with SHA-256 {}",
                expected.size, expected.sha256, found.size, found.sha256
            )),
            Ok(None) => problems.push(format!("blob `{key}` is missing from the target")),
            Err(err) => {
                return Err(err).with_context(|| format!("could not read blob `{key}` back"));
            }
        }
    }
    Ok(problems)
}

async fn copy_one(from: &Blobs, to: &Blobs, key: &str) -> anyhow::Result<Fingerprint> {
    let mut stream = from
        .read(key)
        .await
        .with_context(|| format!("could not read blob `{key}` of the source"))?;
    let mut writer = to
        .writer(key)
        .await
        .with_context(|| format!("could not write blob `{key}` into the target"))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let chunk = match stream.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                writer.abort().await;
                return Err(err).with_context(|| format!("could not read blob `{key}`"));
            }
        };
        hasher.update(&chunk);
        size += chunk.len() as u64;
        if let Err(err) = writer.write(chunk).await {
            writer.abort().await;
            return Err(err).with_context(|| format!("could not write blob `{key}`"));
        }
    }
    writer
        .finish()
        .await
        .with_context(|| format!("could not write blob `{key}`"))?;
    Ok(Fingerprint {
        size,
        sha256: hex::hex(&hasher.finalize()),
    })
}

/// The size and digest of the object under `key`, `None` when there is none.
async fn fingerprint(blobs: &Blobs, key: &str) -> Result<Option<Fingerprint>, anyhow::Error> {
    let mut stream = match blobs.read(key).await {
        Ok(stream) => stream,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok(Some(Fingerprint {
        size,
        sha256: hex::hex(&hasher.finalize()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    async fn put(blobs: &Blobs, key: &str, bytes: &'static [u8]) {
        let mut writer = blobs.writer(key).await.expect("writer");
        writer
            .write(Bytes::from_static(bytes))
            .await
            .expect("write");
        writer.finish().await.expect("finish");
    }

    #[tokio::test]
    async fn every_object_is_copied_and_read_back() {
        let from = Blobs::in_memory();
        let to = Blobs::in_memory();
        put(&from, "binaries/a/part-000001-x", b"first part").await;
        put(&from, "binaries/b/part-000001-y", b"").await;
        let (report, problems) = copy_all(&from, &to).await.expect("copy");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((report.objects, report.bytes, report.verified), (2, 10, 2));
        let mut keys = to.keys("").await.expect("keys");
        keys.sort();
        assert_eq!(
            keys,
            ["binaries/a/part-000001-x", "binaries/b/part-000001-y"]
        );
    }

    #[tokio::test]
    async fn a_copy_that_differs_from_its_source_is_reported() {
        let to = Blobs::in_memory();
        put(&to, "binaries/a/part", b"tampered").await;
        let expected = Fingerprint {
            size: 8,
            sha256: hex::hex(&Sha256::digest(b"original")),
        };
        let copied = [
            ("binaries/a/part".to_owned(), expected.clone()),
            ("binaries/b/part".to_owned(), expected),
        ];
        let mut report = BlobReport::default();
        let problems = verify(&to, &copied, &mut report).await.expect("verify");
        assert_eq!(report.verified, 0);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("`binaries/a/part`: the source has 8 bytes"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("missing from the target"),
            "{problems:?}"
        );
    }
}
