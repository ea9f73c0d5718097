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

/// The CRC32C of each part of a file, published by the hashing pass ([`hash_file`]) as it
/// reads past each part's end: a part is sent with its checksum without a read of its own.
#[derive(Clone)]
pub struct PartCrcs(tokio::sync::watch::Receiver<Vec<u32>>);

/// The hashing pass's side of [`PartCrcs`]: the parts' sizes, in order.
pub struct PartCrcsWriter {
    sizes: Vec<u64>,
    done: tokio::sync::watch::Sender<Vec<u32>>,
}

/// A [`PartCrcs`] for parts of `sizes` bytes (in order, from the file's start), filled in by
/// the [`hash_file`] given the writer.
pub fn part_crcs(sizes: Vec<u64>) -> (PartCrcsWriter, PartCrcs) {
    let (done, crcs) = tokio::sync::watch::channel(Vec::with_capacity(sizes.len()));
    (PartCrcsWriter { sizes, done }, PartCrcs(crcs))
}

impl PartCrcs {
    /// The CRC32C (8 lowercase hex digits) of part `number` (from 1), once the hashing pass
    /// has read it.
    pub async fn get(&self, number: u64) -> Result<String> {
        let index = usize::try_from(number.saturating_sub(1)).unwrap_or(usize::MAX);
        let mut crcs = self.0.clone();
        let known = crcs
            .wait_for(|crcs| crcs.len() > index)
            .await
            .map_err(|_| {
                Error::failure(format!(
                    "the file was not read to the end of part {number}: its hashing stopped"
                ))
            })?;
        Ok(format!("{:08x}", known[index]))
    }
}

/// Where the hashing pass is in the parts: the running CRC32C of the current one.
struct PartCursor {
    writer: PartCrcsWriter,
    crc: u32,
    left: u64,
}

impl PartCursor {
    fn new(writer: PartCrcsWriter) -> Self {
        let mut cursor = PartCursor {
            left: writer.sizes.first().copied().unwrap_or(0),
            writer,
            crc: 0,
        };
        cursor.publish_finished();
        cursor
    }

    /// Takes the next bytes of the file.
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.index() < self.writer.sizes.len() {
            let take = usize::try_from(self.left).map_or(bytes.len(), |left| left.min(bytes.len()));
            self.crc = crc32c::crc32c_append(self.crc, &bytes[..take]);
            self.left -= take as u64;
            bytes = &bytes[take..];
            self.publish_finished();
        }
    }

    fn index(&self) -> usize {
        self.writer.done.borrow().len()
    }

    /// Publishes the current part if all its bytes were seen (and any empty parts after it).
    fn publish_finished(&mut self) {
        while self.left == 0 && self.index() < self.writer.sizes.len() {
            let crc = std::mem::take(&mut self.crc);
            self.writer.done.send_modify(|done| done.push(crc));
            self.left = self.writer.sizes.get(self.index()).copied().unwrap_or(0);
        }
    }
}

/// SHA-256 (hex) of a whole file, read in 1 MiB chunks on a thread of its own, so it runs
/// beside the upload of the file's parts (each core does one); with `parts`, the same pass
/// publishes each part's CRC32C. A plain thread rather than a blocking task: an interrupted
/// push exits without waiting for it.
pub async fn hash_file(
    path: &Path,
    progress: &Progress,
    parts: Option<PartCrcsWriter>,
) -> Result<String> {
    let path = path.to_path_buf();
    let (counts, mut counted) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let hashed = (|| -> Result<String> {
            let mut file = File::open(&path).map_err(|err| io_error("open", &path, err))?;
            let mut hasher = Sha256::new();
            let mut parts = parts.map(PartCursor::new);
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(io_error("read", &path, err)),
                };
                hasher.update(&buf[..n]);
                if let Some(parts) = &mut parts {
                    parts.update(&buf[..n]);
                }
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
        let len = self.left.min(CHUNK as u64);
        // Read into fresh capacity: `read_to_end` fills it without zeroing it first.
        let mut buf = Vec::with_capacity(CHUNK);
        let read = (&mut self.file).take(len).read_to_end(&mut buf);
        let short = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        read.and_then(|n| if n as u64 == len { Ok(()) } else { Err(short) })
            .map_err(|err| {
                Error::failure(format!(
                    "`{}` changed while it was being pushed: it is shorter than when it was hashed",
                    self.path.display()
                ))
                .with_source(err)
                .hint("run the same command again")
            })?;
        self.left -= len;
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

    fn quiet_progress() -> Progress {
        crate::output::Printer::new(crate::output::OutputFormat::Json, false, true).progress("t", 0)
    }

    /// Each part's CRC32C from the hashing pass is the CRC32C of its range of the file, for
    /// parts that end inside a read chunk, span several, or are empty; the SHA-256 is the
    /// whole file's.
    #[tokio::test]
    async fn the_hashing_pass_publishes_each_parts_crc32c() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("write");
        let chunk = CHUNK as u64;
        let sizes = vec![chunk + 3, 0, 2 * chunk - 7, 1, 8];
        assert_eq!(sizes.iter().sum::<u64>(), bytes.len() as u64);
        let (writer, crcs) = part_crcs(sizes.clone());
        let sha256 = hash_file(&path, &quiet_progress(), Some(writer))
            .await
            .expect("hash");
        assert_eq!(sha256, hex(&Sha256::digest(&bytes)));
        let mut offset = 0;
        for (index, size) in sizes.iter().enumerate() {
            let expected = crc32c_range(&path, offset, *size).await.expect("crc");
            let got = crcs.get(index as u64 + 1).await.expect("published");
            assert_eq!(got, expected, "part {}", index + 1);
            offset += size;
        }
    }

    /// A part the pass never reads to the end (the file is shorter than the parts say) is an
    /// error for whoever waits for it, not a wait for ever.
    #[tokio::test]
    async fn a_part_past_the_end_of_the_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").expect("write");
        let (writer, crcs) = part_crcs(vec![4, 4, 4]);
        hash_file(&path, &quiet_progress(), Some(writer))
            .await
            .expect("hash");
        assert_eq!(
            crcs.get(2).await.expect("part 2"),
            crc32c_range(&path, 4, 4).await.expect("crc")
        );
        let err = crcs.get(3).await.expect_err("part 3 was never read whole");
        assert!(err.message.contains("part 3"), "{}", err.message);
    }

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
