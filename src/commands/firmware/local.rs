//! The local side of a push or pull: hashing files in a blocking thread, reading one part at a
//! time, noticing that a file changed, and Ed25519 key files.

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

/// The part size the service uses unless configured otherwise: [`hash_file`] hashes parts of
/// this size along with the whole file, so a push reads the file once before sending it.
pub const EXPECTED_PART_SIZE: u64 = 8 * 1024 * 1024;

/// SHA-256 (hex) of a whole file and of each of its `part_size` pieces, in order.
#[derive(Debug, Clone)]
pub struct Digests {
    pub whole: String,
    pub part_size: u64,
    pub parts: Vec<String>,
}

impl Digests {
    /// The digest of part `number` (from 1) if the parts were hashed at `part_size`.
    pub fn part(&self, part_size: u64, number: u64) -> Option<&str> {
        if part_size != self.part_size {
            return None;
        }
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.parts.get(index).map(String::as_str)
    }
}

/// Chunks the part hasher may lag behind the whole-file hash before it is given up.
const PART_HASHER_LAG: usize = 8;

/// [`Digests`] of the file, read once in 1 MiB chunks off the async threads: this thread reads
/// and hashes the whole, another hashes the parts alongside (two cores hash at once). The
/// whole-file digest never waits for the parts: when the part hasher falls behind (a busy
/// machine), it is given up and the parts it did not finish are hashed when they are sent.
pub async fn hash_file(path: &Path, part_size: u64, progress: &Progress) -> Result<Digests> {
    let path = path.to_path_buf();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let task = tokio::task::spawn_blocking(move || -> Result<Digests> {
        let mut file = File::open(&path).map_err(|err| io_error("open", &path, err))?;
        let (chunks, received) = std::sync::mpsc::sync_channel(PART_HASHER_LAG);
        let parts = std::thread::spawn(move || hash_parts(received, part_size));
        let mut feeding = true;
        let mut hasher = Sha256::new();
        let read = loop {
            let mut buf = vec![0u8; CHUNK];
            let n = match file.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => break Err(io_error("read", &path, err)),
            };
            buf.truncate(n);
            let chunk = Bytes::from(buf);
            hasher.update(&chunk);
            feeding = feeding && chunks.try_send(Some(chunk)).is_ok();
            let _ = tx.send(n as u64);
        };
        if feeding && read.is_ok() {
            let _ = chunks.try_send(None); // The end of the file: the last part is whole.
        }
        drop(chunks);
        let parts = parts
            .join()
            .map_err(|_| Error::failure("the part hashing thread failed"))?;
        read?;
        Ok(Digests {
            whole: hex(&hasher.finalize()),
            part_size,
            parts,
        })
    });
    while let Some(n) = rx.recv().await {
        progress.add(n);
    }
    join(task.await)
}

/// SHA-256 (hex) of each `part_size` piece of the chunks, in order. `None` marks the end of
/// the file (its last part may be shorter); without it only whole parts count.
fn hash_parts(chunks: std::sync::mpsc::Receiver<Option<Bytes>>, part_size: u64) -> Vec<String> {
    let part_size = part_size.max(1);
    let mut parts = Vec::new();
    let mut hasher = Sha256::new();
    let mut filled = 0u64;
    for chunk in chunks {
        let Some(mut chunk) = chunk else {
            if filled > 0 {
                parts.push(hex(&hasher.finalize()));
            }
            break;
        };
        while !chunk.is_empty() {
            let take = usize::try_from(part_size - filled)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            hasher.update(chunk.split_to(take));
            filled += take as u64;
            if filled == part_size {
                parts.push(hex(&std::mem::take(&mut hasher).finalize()));
                filled = 0;
            }
        }
    }
    parts
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

    fn parts_of(chunks: &[&[u8]], end: bool, part_size: u64) -> Vec<String> {
        let (tx, rx) = std::sync::mpsc::sync_channel(chunks.len() + 1);
        for chunk in chunks {
            tx.send(Some(Bytes::copy_from_slice(chunk))).expect("send");
        }
        if end {
            tx.send(None).expect("send");
        }
        drop(tx);
        hash_parts(rx, part_size)
    }

    fn sha(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[test]
    fn parts_are_hashed_across_chunk_boundaries() {
        let bytes = b"abcdefghij";
        let expected: Vec<String> = bytes.chunks(4).map(sha).collect();
        assert_eq!(parts_of(&[b"abc", b"defgh", b"ij"], true, 4), expected);
        assert_eq!(parts_of(&[b"abcdefghij"], true, 4), expected);
        assert_eq!(parts_of(&[b"abcdefgh"], true, 4).len(), 2);
        assert_eq!(parts_of(&[], true, 4), Vec::<String>::new());
    }

    #[test]
    fn a_given_up_part_hasher_keeps_only_whole_parts() {
        assert_eq!(
            parts_of(&[b"abcdefghij"], false, 4),
            vec![sha(b"abcd"), sha(b"efgh")]
        );
        let digests = Digests {
            whole: sha(b"abcdefghij"),
            part_size: 4,
            parts: vec![sha(b"abcd"), sha(b"efgh")],
        };
        assert_eq!(digests.part(4, 2), Some(sha(b"efgh").as_str()));
        assert_eq!(digests.part(4, 3), None, "not hashed: hashed when sent");
        assert_eq!(digests.part(4, 0), None);
        assert_eq!(digests.part(8, 1), None, "another part size");
    }

    #[cfg(feature = "server")]
    #[test]
    fn the_expected_part_size_is_the_services_default() {
        assert_eq!(EXPECTED_PART_SIZE, crate::server::DEFAULT_PART_SIZE_BYTES);
    }
}
