//! What only a local-directory store needs: its files made owner-only, the files of writes a
//! crash left unfinished, empty directories removed, and fast reads of large files.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::StreamExt as _;
use object_store::local::LocalFileSystem;

use super::{BlobError, ByteStream};

/// Bytes per chunk when streaming an object out of a local file.
const READ_CHUNK: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub(super) struct Local {
    pub(super) store: Arc<LocalFileSystem>,
    /// The directory as the store resolved it (canonical), so object paths start with it. Its
    /// writes in progress are files `<key>#<n>` that the store's listing hides; a crash leaves
    /// them behind, so cleaning up reaches for them here. (A bucket's unfinished multipart
    /// uploads expire by its own lifecycle rule instead.)
    pub(super) root: PathBuf,
}

/// Deletes the files of unfinished writes directly in `dir`; how many.
pub(super) async fn delete_unfinished_in(dir: PathBuf) -> Result<usize, BlobError> {
    blocking(move || {
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
pub(super) async fn remove_tree(dir: PathBuf) -> Result<(), BlobError> {
    blocking(move || {
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
}

/// Runs `work` on a blocking thread (file system calls), its failure to run a store error.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| generic(err.into()))?
}

/// An error of the local store.
pub(super) fn generic(source: Box<dyn std::error::Error + Send + Sync>) -> BlobError {
    BlobError::Generic {
        store: "local",
        source,
    }
}

fn local_error(path: &Path, err: &std::io::Error) -> BlobError {
    generic(format!("could not clean up `{}`: {err}", path.display()).into())
}

/// Makes a finished object's file and the directories above it (below `root`) owner-only.
#[cfg(unix)]
pub(super) fn make_private(root: &Path, file: &Path) -> Result<(), BlobError> {
    // New files and directories are created owner-only, but directories made before (by an
    // older version, or by hand) keep their mode; a few chmods after the rename are cheap
    // next to writing the part.
    crate::server::private::restrict_below(root, file).map_err(|err| {
        generic(format!("could not make `{}` private: {err}", file.display()).into())
    })
}

/// A local file as a stream of 1 MiB chunks read on one blocking thread: object_store reads
/// local files 8 KiB per blocking call, several times slower for firmware-sized objects.
pub(super) fn read_file(mut file: std::fs::File, path: PathBuf) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BlobError>>(2);
    tokio::task::spawn_blocking(move || {
        loop {
            // Whole chunks, so hashing and sending see few, large pieces, read into fresh
            // capacity: `read_to_end` fills it without zeroing it first (zeroing every chunk
            // was a tenth of the service's CPU during a push, the running digest's reads).
            let mut buf = Vec::with_capacity(READ_CHUNK);
            let read = (&mut file).take(READ_CHUNK as u64).read_to_end(&mut buf);
            if let Err(err) = read {
                let err = generic(format!("could not read `{}`: {err}", path.display()).into());
                let _ = tx.blocking_send(Err(err));
                return;
            }
            if buf.is_empty() {
                return;
            }
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
