//! Firmware blob storage behind the `object_store` interface: a local directory (`<data-dir>/blobs`)
//! now, an S3-compatible bucket later without touching the handlers. Uploaded parts are separate
//! objects; a binary's content is its parts read in order, so completing an upload never copies it.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, WriteMultipart};

/// Directory under the data dir that holds the local object store.
pub const BLOBS_DIR: &str = "blobs";
/// Bytes per chunk when streaming an object out of a local file.
const READ_CHUNK: usize = 1024 * 1024;
/// Bytes buffered before a streamed write hands a chunk to the store.
const WRITE_CHUNK: usize = 1024 * 1024;
/// Chunk writes of one streamed object in flight at once (memory: about this many chunks).
const WRITES_IN_FLIGHT: usize = 2;

pub type BlobError = object_store::Error;
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is a local directory, whose files are made owner-only.
    local: Option<Local>,
}

#[derive(Clone, Debug)]
struct Local {
    store: Arc<LocalFileSystem>,
    /// The directory as the store resolved it (canonical), so object paths start with it. Its
    /// writes in progress are files `<key>#<n>` that the store's listing hides; a crash leaves
    /// them behind, so cleaning up reaches for them here. (A bucket's unfinished multipart
    /// uploads expire by its own lifecycle rule instead.)
    root: PathBuf,
}

impl Blobs {
    /// A store in `<data_dir>/blobs`, created when missing.
    pub fn local(data_dir: &Path) -> anyhow::Result<Self> {
        let root = data_dir.join(BLOBS_DIR);
        super::private::create_dir(&root)
            .and_then(|()| super::private::restrict(&root, super::private::DIR_MODE))
            .with_context(|| format!("could not create `{}` (mode 0700)", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("could not open the blob store `{}`", root.display()))?;
        let root = std::fs::canonicalize(&root)
            .with_context(|| format!("could not resolve `{}`", root.display()))?;
        let store = Arc::new(store);
        Ok(Blobs {
            store: store.clone(),
            local: Some(Local { store, root }),
        })
    }

    /// A store in memory (tests, and the placeholder before the data dir is known).
    pub fn in_memory() -> Self {
        Blobs {
            store: Arc::new(object_store::memory::InMemory::new()),
            local: None,
        }
    }

    /// Starts writing `key` piece by piece: nothing is visible under `key` until
    /// [`BlobWriter::finish`], and memory stays at a few chunks whatever the object's size.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let location = ObjectPath::from(key);
        let upload = self.store.put_multipart(&location).await?;
        let file = match &self.local {
            Some(local) => Some((
                local.store.path_to_filesystem(&location)?,
                local.root.clone(),
            )),
            None => None,
        };
        Ok(BlobWriter {
            inner: WriteMultipart::new_with_chunk_size(upload, WRITE_CHUNK),
            file,
        })
    }

    /// The object under `key` as a stream of chunks; memory stays at a couple of chunks.
    pub async fn read(&self, key: &str) -> Result<ByteStream, BlobError> {
        let result = self.store.get(&ObjectPath::from(key)).await?;
        match result.payload {
            // object_store reads local files 8 KiB per blocking call; one reader thread with
            // 1 MiB chunks is several times faster for firmware-sized objects.
            GetResultPayload::File(file, path) => Ok(read_file(file, path)),
            GetResultPayload::Stream(stream) => Ok(stream),
        }
    }

    /// The keys of every object under `prefix`.
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.store
            .list(Some(&ObjectPath::from(prefix)))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
    }

    /// Deletes the objects under `keys`.
    pub async fn delete_keys(&self, keys: Vec<String>) -> Result<(), BlobError> {
        let locations = futures_util::stream::iter(keys)
            .map(|key| Ok(ObjectPath::from(key)))
            .boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// Deletes every object under `prefix` (a restarted or abandoned upload's parts), writes
    /// left unfinished there included.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        let prefix = ObjectPath::from(prefix);
        let locations = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        if let Some(dir) = self.local_dir(&prefix) {
            remove_tree(dir).await?;
        }
        Ok(())
    }

    /// The "directories" directly under `prefix`, e.g. `binaries/<id>` under `binaries`.
    pub async fn children(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let listed = self
            .store
            .list_with_delimiter(Some(&ObjectPath::from(prefix)))
            .await?;
        Ok(listed
            .common_prefixes
            .into_iter()
            .map(|p| p.to_string())
            .collect())
    }

    /// Deletes the writes under `prefix` that never finished (their files in a local store):
    /// only where no write can still be running, e.g. the parts of a ready binary. How many.
    pub async fn delete_unfinished(&self, prefix: &str) -> Result<usize, BlobError> {
        let Some(dir) = self.local_dir(&ObjectPath::from(prefix)) else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                Err(err) => return Err(local_error(&dir, &err)),
            };
            let mut removed = 0;
            for entry in entries {
                let path = entry.map_err(|err| local_error(&dir, &err))?.path();
                if is_unfinished_write(&path) {
                    match std::fs::remove_file(&path) {
                        Ok(()) => removed += 1,
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => return Err(local_error(&path, &err)),
                    }
                }
            }
            Ok(removed)
        })
        .await
        .map_err(|err| BlobError::Generic {
            store: "local",
            source: err.into(),
        })?
    }

    fn local_dir(&self, prefix: &ObjectPath) -> Option<PathBuf> {
        let mut dir = self.local.as_ref()?.root.clone();
        dir.extend(prefix.parts().map(|part| part.as_ref().to_owned()));
        Some(dir)
    }
}

/// A local store's file of a write in progress (or left by a crash): `<name>#<digits>`.
fn is_unfinished_write(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.rsplit_once('#') {
        Some((_, suffix)) => !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Removes `dir` with everything in it, then its parent if that is left empty (a binary's
/// directory once its last upload prefix is gone).
async fn remove_tree(dir: PathBuf) -> Result<(), BlobError> {
    tokio::task::spawn_blocking(move || {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(local_error(&dir, &err)),
        }
        if let Some(parent) = dir.parent() {
            // Fails when other uploads' directories are still there: that is fine.
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    })
    .await
    .map_err(|err| BlobError::Generic {
        store: "local",
        source: err.into(),
    })?
}

fn local_error(path: &Path, err: &std::io::Error) -> BlobError {
    BlobError::Generic {
        store: "local",
        source: format!("could not clean up `{}`: {err}", path.display()).into(),
    }
}

/// An object being written; dropping it without [`BlobWriter::finish`] leaves nothing behind.
pub struct BlobWriter {
    inner: WriteMultipart,
    /// The finished object's file and the store's root, for a local store.
    file: Option<(PathBuf, PathBuf)>,
}

impl BlobWriter {
    /// Appends `bytes`, waiting while earlier chunks are still being written.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        self.inner.wait_for_capacity(WRITES_IN_FLIGHT).await?;
        self.inner.put(bytes);
        Ok(())
    }

    /// Makes the object visible under its key, replacing what was there.
    pub async fn finish(self) -> Result<(), BlobError> {
        self.inner.finish().await?;
        if let Some((file, root)) = &self.file {
            // The store creates files and directories as the umask says; a few chmods after
            // the rename are cheap next to writing the part.
            super::private::restrict_below(root, file).map_err(|err| BlobError::Generic {
                store: "local",
                source: format!("could not make `{}` private: {err}", file.display()).into(),
            })?;
        }
        Ok(())
    }

    /// Discards what was written.
    pub async fn abort(self) {
        if let Err(err) = self.inner.abort().await {
            tracing::warn!(error = %err, "could not discard a partly written blob");
        }
    }
}

/// Whether `err` comes from a full file system: the write cannot succeed until space is freed.
pub fn is_disk_full(err: &BlobError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::StorageFull {
                return true;
            }
        }
        cause = current.source();
    }
    false
}

fn read_file(mut file: std::fs::File, path: std::path::PathBuf) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BlobError>>(2);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; READ_CHUNK];
            let mut filled = 0;
            // Fill whole chunks so hashing and sending see few, large pieces.
            while filled < READ_CHUNK {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        let err = BlobError::Generic {
                            store: "local",
                            source: format!("could not read `{}`: {err}", path.display()).into(),
                        };
                        let _ = tx.blocking_send(Err(err));
                        return;
                    }
                }
            }
            if filled == 0 {
                return;
            }
            buf.truncate(filled);
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return; // The reader went away (client disconnected).
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}
