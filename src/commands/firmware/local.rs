//! The local side of a push or pull: hashing files in a blocking thread, reading one part at a
//! time, noticing that a file changed, Ed25519 key files, and the test hooks.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result, io_error};
use crate::output::Progress;

const CHUNK: usize = 1024 * 1024;

/// Stops a push after this many uploaded parts, as if it were killed (tests only).
pub const STOP_AFTER_PARTS_ENV: &str = "FLEET_TEST_STOP_AFTER_PARTS";
/// Flips the first byte of the file right after hashing it, as a concurrent writer would
/// (tests only).
pub const MUTATE_AFTER_HASH_ENV: &str = "FLEET_TEST_MUTATE_AFTER_HASH";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Size and modification time, to notice a file that changes while it is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub size: u64,
    modified: Option<SystemTime>,
}

pub fn snapshot(path: &Path) -> Result<Snapshot> {
    let meta = std::fs::metadata(path).map_err(|err| io_error("read", path, err))?;
    if !meta.is_file() {
        return Err(Error::usage(format!("`{}` is not a file", path.display())));
    }
    Ok(Snapshot {
        size: meta.len(),
        modified: meta.modified().ok(),
    })
}

fn join<T>(result: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    result.map_err(|err| Error::failure("a worker thread failed").with_source(err))?
}

/// SHA-256 (hex) of the whole file, read in 1 MiB chunks off the async threads.
pub async fn hash_file(path: &Path, progress: &Progress) -> Result<String> {
    let path = path.to_path_buf();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let task = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut file = File::open(&path).map_err(|err| io_error("open", &path, err))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|err| io_error("read", &path, err))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            let _ = tx.send(n as u64);
        }
        Ok(hex(&hasher.finalize()))
    });
    while let Some(n) = rx.recv().await {
        progress.add(n);
    }
    join(task.await)
}

/// The bytes of one part and their SHA-256.
pub async fn read_part(path: &Path, offset: u64, size: u64) -> Result<(Bytes, String)> {
    let path: PathBuf = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || -> Result<(Bytes, String)> {
        let mut file = File::open(&path).map_err(|err| io_error("open", &path, err))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|err| io_error("read", &path, err))?;
        let len = usize::try_from(size).map_err(|_| Error::failure("part too large"))?;
        let mut buf = vec![0u8; len];
        file.read_exact(&mut buf).map_err(|err| {
            Error::failure(format!(
                "`{}` changed while it was being pushed: it is shorter than when it was hashed",
                path.display()
            ))
            .with_source(err)
            .hint("run the same command again")
        })?;
        let digest = hex(&Sha256::digest(&buf));
        Ok((Bytes::from(buf), digest))
    });
    join(task.await)
}

/// The test hook behind [`MUTATE_AFTER_HASH_ENV`].
pub fn mutate_for_test(path: &Path) -> Result<()> {
    if std::env::var_os(MUTATE_AFTER_HASH_ENV).is_none() {
        return Ok(());
    }
    let mut bytes = std::fs::read(path).map_err(|err| io_error("read", path, err))?;
    if let Some(first) = bytes.first_mut() {
        *first ^= 0xff;
    }
    std::fs::write(path, bytes).map_err(|err| io_error("write", path, err))
}

pub fn stop_after_parts() -> Option<usize> {
    std::env::var(STOP_AFTER_PARTS_ENV).ok()?.parse().ok()
}

/// An Ed25519 private key from a PKCS#8 PEM file (`BEGIN PRIVATE KEY`, as written by
/// `fleet signing-key generate` or `openssl genpkey -algorithm ed25519`).
pub fn load_private_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error("read", path, err))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|err| {
        Error::usage(format!(
            "`{}` is not an Ed25519 private key in PKCS#8 PEM",
            path.display()
        ))
        .with_source(anyhow::anyhow!("{err}"))
        .hint("make one with `fleet signing-key generate NAME --out FILE`")
    })
}

pub fn public_key_b64(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}
