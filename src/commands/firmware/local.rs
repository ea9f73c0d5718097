//! The local side of a push or pull: hashing a file on a thread of its own, the CRC32C of one
//! part, reading one part at a time, noticing that a file changed, and Ed25519 key files.

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

/// SHA-256 (hex) of a whole file, read in 1 MiB chunks on a thread of its own, so it runs
/// beside the upload of the file's parts (each core does one). A plain thread rather than a
/// blocking task: an interrupted push exits without waiting for it.
pub async fn hash_file(path: &Path, progress: &Progress) -> Result<String> {
    let path = path.to_path_buf();
    let (counts, mut counted) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let hashed = (|| -> Result<String> {
            let mut file = File::open(&path).map_err(|err| io_error("open", &path, err))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(io_error("read", &path, err)),
                };
                hasher.update(&buf[..n]);
                let _ = counts.send(n as u64);
            }
            Ok(hex(&hasher.finalize()))
        })();
        let _ = done.send(hashed);
    });
    while let Some(n) = counted.recv().await {
        progress.add(n);
    }
    result
        .await
        .map_err(|_| Error::failure("the hashing thread failed"))?
}

/// CRC32C (8 lowercase hex digits) of `size` bytes at `offset`: what a part is sent with.
pub async fn crc32c_range(path: &Path, offset: u64, size: u64) -> Result<String> {
    let path: PathBuf = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut reader = RangeReader::open(&path, offset, size)?;
        let mut crc = 0u32;
        while let Some(chunk) = reader.next_chunk()? {
            crc = crc32c::crc32c_append(crc, &chunk);
        }
        Ok(format!("{crc:08x}"))
    });
    join(task.await)
}

/// SHA-256 (hex) of `size` bytes at `offset`, read in chunks (nothing of it is kept).
pub async fn hash_range(path: &Path, offset: u64, size: u64) -> Result<String> {
    let path: PathBuf = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut reader = RangeReader::open(&path, offset, size)?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = reader.next_chunk()? {
            hasher.update(&chunk);
        }
        Ok(hex(&hasher.finalize()))
    });
    join(task.await)
}

/// `size` bytes at `offset` as a stream of chunks, read by a blocking thread a chunk ahead:
/// an upload holds about two chunks, not the whole part.
pub fn range_stream(
    path: &Path,
    offset: u64,
    size: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let path = path.to_path_buf();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    tokio::task::spawn_blocking(move || {
        let mut reader = match RangeReader::open(&path, offset, size) {
            Ok(reader) => reader,
            Err(err) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(err.message)));
                return;
            }
        };
        loop {
            let item = match reader.next_chunk() {
                Ok(Some(chunk)) => Ok(chunk),
                Ok(None) => return,
                Err(err) => Err(std::io::Error::other(err.message)),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// Reads a byte range of a file in chunks; a file that got shorter is an error.
struct RangeReader {
    file: File,
    path: PathBuf,
    left: u64,
}

impl RangeReader {
    fn open(path: &Path, offset: u64, size: u64) -> Result<Self> {
        let mut file = File::open(path).map_err(|err| io_error("open", path, err))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|err| io_error("read", path, err))?;
        Ok(RangeReader {
            file,
            path: path.to_path_buf(),
            left: size,
        })
    }

    fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if self.left == 0 {
            return Ok(None);
        }
        let len = usize::try_from(self.left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let mut buf = vec![0u8; len];
        self.file.read_exact(&mut buf).map_err(|err| {
            Error::failure(format!(
                "`{}` changed while it was being pushed: it is shorter than when it was hashed",
                self.path.display()
            ))
            .with_source(err)
            .hint("run the same command again")
        })?;
        self.left -= len as u64;
        Ok(Some(Bytes::from(buf)))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_range_has_the_crc32c_of_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"xx123456789yy").expect("write");
        // The check value of CRC-32C (Castagnoli) for "123456789".
        assert_eq!(crc32c_range(&path, 2, 9).await.expect("crc"), "e3069283");
        assert_eq!(crc32c_range(&path, 0, 0).await.expect("crc"), "00000000");
        assert!(crc32c_range(&path, 10, 9).await.is_err(), "past the end");
    }
}
