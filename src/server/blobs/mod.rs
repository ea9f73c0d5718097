//! Firmware blob storage behind the `object_store` interface: a local directory
//! (`<data-dir>/blobs`, `local.rs`; its files written past the page cache by `direct.rs`) or
//! an S3-compatible bucket (`s3.rs`), the one interface the domain sees. Two layouts of a
//! binary's content: separate part objects read in order (every store), or one object
//! assembled by the store's multipart API from parts uploaded straight into it (S3,
//! `multipart.rs`). Only an object of the second layout can be handed to
//! a device as a presigned URL (`presign.rs`): the first needs the service to join its parts.

#[cfg(unix)]
mod direct;
mod local;
mod multipart;
mod presign;
pub mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, WriteMultipart};

use local::Local;
pub use multipart::Multipart;
pub use presign::Presigner;

/// Directory under the data dir that holds the local object store.
pub const BLOBS_DIR: &str = "blobs";
/// Bytes buffered before a streamed write hands a chunk to a store in this process's memory.
/// (A local directory's files are written by `direct.rs`, in chunks of its own.)
const LOCAL_WRITE_CHUNK: usize = 1024 * 1024;
/// Chunk writes of one streamed object in flight at once (memory: about this many chunks).
const WRITES_IN_FLIGHT: usize = 2;

pub type BlobError = object_store::Error;
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is a local directory, whose files are made owner-only.
    local: Option<Local>,
    /// The store's multipart API, when it has one the service uses (S3).
    multipart: Option<Multipart>,
    /// Bytes per chunk of a streamed write: a bucket takes multipart chunks of 5 MiB or more.
    write_chunk: usize,
    /// Signs URLs a client without the store's credentials can fetch an object with (S3).
    presigner: Option<Presigner>,
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
            multipart: None,
            write_chunk: LOCAL_WRITE_CHUNK,
            presigner: None,
        })
    }

    /// A store in memory (tests, and the placeholder before the data dir is known).
    pub fn in_memory() -> Self {
        Blobs {
            store: Arc::new(object_store::memory::InMemory::new()),
            local: None,
            multipart: None,
            write_chunk: LOCAL_WRITE_CHUNK,
            presigner: None,
        }
    }

    /// Asks the store for a listing, so a missing bucket or wrong credentials fail at start-up
    /// rather than on the first upload.
    pub async fn check(&self) -> Result<(), BlobError> {
        self.store.list_with_delimiter(None).await.map(|_| ())
    }

    /// Starts writing `key` piece by piece: nothing is visible under `key` until
    /// [`BlobWriter::finish`], and memory stays at a few chunks whatever the object's size.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let location = ObjectPath::from(key);
        #[cfg(unix)]
        if let Some(local) = &self.local {
            let path = local.store.path_to_filesystem(&location)?;
            let file = direct::FileWriter::create(path, local.root.clone()).await?;
            return Ok(BlobWriter(Writer::File(file)));
        }
        let upload = self.store.put_multipart(&location).await?;
        let upload = WriteMultipart::new_with_chunk_size(upload, self.write_chunk);
        Ok(BlobWriter(Writer::Store(upload)))
    }

    /// The object under `key` as a stream of chunks; memory stays at a couple of chunks.
    pub async fn read(&self, key: &str) -> Result<ByteStream, BlobError> {
        let result = self.store.get(&ObjectPath::from(key)).await?;
        match result.payload {
            GetResultPayload::File(file, path) => Ok(local::read_file(file, path)),
            GetResultPayload::Stream(stream) => Ok(stream),
        }
    }

    /// Bytes `range` of the object under `key` as a stream (a resumed download). `range` must
    /// not be empty.
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<ByteStream, BlobError> {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        let result = self.store.get_opts(&ObjectPath::from(key), options).await?;
        Ok(result.into_stream())
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
            local::remove_tree(dir).await?;
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
        match self.local_dir(&ObjectPath::from(prefix)) {
            Some(dir) => local::delete_unfinished_in(dir).await,
            None => Ok(0),
        }
    }

    fn local_dir(&self, prefix: &ObjectPath) -> Option<PathBuf> {
        let mut dir = self.local.as_ref()?.root.clone();
        dir.extend(prefix.parts().map(|part| part.as_ref().to_owned()));
        Some(dir)
    }
}

/// An object being written; dropping it without [`BlobWriter::finish`] leaves nothing behind.
pub struct BlobWriter(Writer);

enum Writer {
    /// A local store's file, written directly (`direct.rs`).
    #[cfg(unix)]
    File(direct::FileWriter),
    /// Any other store (and a local one off Unix), through its multipart interface.
    Store(WriteMultipart),
}

impl BlobWriter {
    /// Appends `bytes`, waiting while earlier chunks are still being written.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        match &mut self.0 {
            #[cfg(unix)]
            Writer::File(file) => file.write(&bytes).await,
            Writer::Store(upload) => {
                upload.wait_for_capacity(WRITES_IN_FLIGHT).await?;
                upload.put(bytes);
                Ok(())
            }
        }
    }

    /// Makes the object visible under its key, replacing what was there.
    pub async fn finish(self) -> Result<(), BlobError> {
        match self.0 {
            #[cfg(unix)]
            Writer::File(file) => file.finish().await,
            Writer::Store(upload) => upload.finish().await.map(|_| ()),
        }
    }

    /// Discards what was written.
    pub async fn abort(self) {
        #[cfg_attr(not(unix), allow(irrefutable_let_patterns))]
        let Writer::Store(upload) = self.0 else {
            return; // The file's writer removes its file when dropped.
        };
        if let Err(err) = upload.abort().await {
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

/// `key` under `prefix`: how a client of the whole bucket (multipart API, URL signer) names an
/// object the rest of the store reaches through `PrefixStore`.
fn prefixed(prefix: Option<&ObjectPath>, key: &str) -> ObjectPath {
    let key = ObjectPath::from(key);
    match prefix {
        Some(prefix) => prefix.parts().chain(key.parts()).collect(),
        None => key,
    }
}
