//! Writing a local store's object straight to its file, past the page cache (`O_DIRECT` on
//! Linux), in aligned chunks on a blocking thread.
//!
//! Why: a firmware push writes its whole size once and the service rarely reads it back soon
//! (the running digest hashes the chunks it kept in memory). Through the page cache, every
//! byte is copied into freshly allocated cache pages and written back later by the kernel's
//! flusher threads, which compete for the same cores; on a VM whose host reclaims free guest
//! memory, filling new cache pages cost 0.4 to 4 s per GiB on the same machine. Direct writes
//! reuse a few aligned buffers and cost the same every time. A file system that
//! refuses direct I/O (at open, or for a write's alignment) gets ordinary writes instead.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use super::BlobError;
use super::local::{blocking, generic, make_private};

/// Alignment of a direct write's buffer, length and file offset: the largest logical block
/// size in common use (512-byte devices accept it too).
const ALIGN: usize = 4096;
/// Bytes per write; two such buffers per object being written (one filling, one in flight),
/// as much memory per write as the store's own writer held.
const CHUNK: usize = 1024 * 1024;

/// Spare chunks kept between writes: enough for eight parts in flight, reused rather than
/// allocated for every part (fresh memory is what made the page cache slow to fill).
const MAX_SPARE: usize = 16;
static SPARE: Mutex<Vec<Chunk>> = Mutex::new(Vec::new());

/// Distinguishes the temporary files of writes in progress: `<file>#<n>`, the form the
/// store's clean-up of unfinished writes removes.
static NEXT_WRITE: AtomicU64 = AtomicU64::new(0);

/// An object being written to `path` through a temporary file renamed into place on finish.
pub(super) struct FileWriter {
    path: PathBuf,
    root: PathBuf,
    temp: PathBuf,
    file: Arc<Target>,
    filling: Chunk,
    /// Where `filling` starts in the file.
    offset: u64,
    /// The previous chunk's write; gives its buffer back for reuse.
    in_flight: Option<JoinHandle<io::Result<Chunk>>>,
    finished: bool,
}

/// The open temporary file, and whether its writes still bypass the page cache.
struct Target {
    file: File,
    direct: AtomicBool,
}

impl FileWriter {
    /// Creates the temporary file of a write of `path` (and the directories above it, below
    /// `root`, owner-only).
    pub(super) async fn create(path: PathBuf, root: PathBuf) -> Result<Self, BlobError> {
        let (temp, target) = blocking({
            let path = path.clone();
            move || open_temp(&path)
        })
        .await?;
        Ok(FileWriter {
            path,
            root,
            temp,
            file: Arc::new(target),
            filling: Chunk::take(),
            offset: 0,
            in_flight: None,
            finished: false,
        })
    }

    /// Appends `bytes`, waiting while the previous chunk is still being written.
    pub(super) async fn write(&mut self, mut bytes: &[u8]) -> Result<(), BlobError> {
        while !bytes.is_empty() {
            let taken = self.filling.fill(bytes);
            bytes = &bytes[taken..];
            if self.filling.is_full() {
                self.send_filled().await?;
            }
        }
        Ok(())
    }

    /// Writes the rest, then makes the object visible under its path, replacing what was there.
    pub(super) async fn finish(mut self) -> Result<(), BlobError> {
        if let Some(spare) = self.wait_in_flight().await? {
            spare.give_back();
        }
        let last = std::mem::replace(&mut self.filling, Chunk::empty());
        let (target, offset) = (self.file.clone(), self.offset);
        let (temp, path, root) = (self.temp.clone(), self.path.clone(), self.root.clone());
        blocking(move || {
            if !last.data().is_empty() {
                // The last chunk's length is rarely a multiple of the block size.
                let written = target
                    .buffered()
                    .and_then(|()| target.write_at(last.data(), offset));
                written.map_err(|err| file_error(&temp, err))?;
            }
            last.give_back();
            std::fs::rename(&temp, &path).map_err(|err| file_error(&path, err))?;
            make_private(&root, &path)
        })
        .await?;
        self.finished = true;
        Ok(())
    }

    async fn send_filled(&mut self) -> Result<(), BlobError> {
        let next = match self.wait_in_flight().await? {
            Some(reused) => reused,
            None => Chunk::take(),
        };
        let full = std::mem::replace(&mut self.filling, next);
        let (target, offset) = (self.file.clone(), self.offset);
        self.offset += full.data().len() as u64;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            target.write_at(full.data(), offset)?;
            Ok(full.emptied())
        }));
        Ok(())
    }

    /// Waits for the chunk in flight; its buffer, emptied.
    async fn wait_in_flight(&mut self) -> Result<Option<Chunk>, BlobError> {
        let Some(write) = self.in_flight.take() else {
            return Ok(None);
        };
        let written = write.await.map_err(|err| generic(err.into()))?;
        written.map(Some).map_err(|err| file_error(&self.temp, err))
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if !self.finished {
            // A write still in flight keeps the unlinked file open until it ends: harmless.
            let _ = std::fs::remove_file(&self.temp);
            std::mem::replace(&mut self.filling, Chunk::empty()).give_back();
        }
    }
}

impl Target {
    /// From now on, writes go through the page cache.
    fn buffered(&self) -> io::Result<()> {
        if self.direct.swap(false, Ordering::Relaxed) {
            set_direct(&self.file, false)?;
        }
        Ok(())
    }

    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt as _;
        match self.file.write_all_at(data, offset) {
            // The file system takes direct I/O but not at this alignment: write it buffered.
            Err(err) if self.direct.load(Ordering::Relaxed) && is_invalid_argument(&err) => {
                self.buffered()?;
                self.file.write_all_at(data, offset)
            }
            written => written,
        }
    }
}

/// Opens a new temporary file beside `path`, direct when the file system allows it.
fn open_temp(path: &Path) -> Result<(PathBuf, Target), BlobError> {
    if let Some(parent) = path.parent() {
        crate::server::private::create_dir(parent).map_err(|err| file_error(parent, err))?;
    }
    loop {
        let n = NEXT_WRITE.fetch_add(1, Ordering::Relaxed);
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!("#{}{n}", std::process::id()));
        let temp = PathBuf::from(temp);
        let opened = match open_new(&temp, true) {
            Err(err) if is_invalid_argument(&err) => open_new(&temp, false).map(|f| (f, false)),
            opened => opened.map(|f| (f, direct_flag() != 0)),
        };
        match opened {
            Ok((file, direct)) => {
                let direct = AtomicBool::new(direct);
                return Ok((temp, Target { file, direct }));
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(file_error(&temp, err)),
        }
    }
}

fn open_new(path: &Path, direct: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options
        .write(true)
        .create_new(true)
        .mode(crate::server::private::FILE_MODE);
    if direct {
        options.custom_flags(direct_flag());
    }
    options.open(path)
}

#[cfg(target_os = "linux")]
fn direct_flag() -> i32 {
    rustix::fs::OFlags::DIRECT.bits() as i32
}

/// No direct I/O here: the open asks for nothing more, and the writes are ordinary ones.
#[cfg(not(target_os = "linux"))]
fn direct_flag() -> i32 {
    0
}

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let mut flags = fcntl_getfl(file)?;
    flags.set(OFlags::DIRECT, on);
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, _on: bool) -> io::Result<()> {
    Ok(())
}

fn is_invalid_argument(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::InvalidInput
}

/// A buffer whose data starts at an `ALIGN` boundary: a `Vec` with room for `CHUNK` bytes past
/// the padding that aligns them (the padding is never written anywhere).
struct Chunk {
    bytes: Vec<u8>,
    start: usize,
}

impl Chunk {
    fn new() -> Self {
        let mut bytes: Vec<u8> = Vec::with_capacity(CHUNK + ALIGN);
        // `align_offset` may answer "cannot" (`usize::MAX`); then the data starts unaligned,
        // and its first direct write falls back to an ordinary one.
        let start = Some(bytes.as_ptr().align_offset(ALIGN)).filter(|&n| n < ALIGN);
        bytes.resize(start.unwrap_or(0), 0);
        let start = bytes.len();
        Chunk { bytes, start }
    }

    /// A spare chunk, or a new one.
    fn take() -> Self {
        let spare = SPARE.lock().ok().and_then(|mut spare| spare.pop());
        spare.unwrap_or_else(Chunk::new)
    }

    /// Keeps this chunk for another write, unless enough are kept already.
    fn give_back(self) {
        if self.bytes.capacity() < CHUNK {
            return; // A stand-in ([`Chunk::empty`]).
        }
        let chunk = self.emptied();
        if let Ok(mut spare) = SPARE.lock() {
            if spare.len() < MAX_SPARE {
                spare.push(chunk);
            }
        }
    }

    /// Stands in for a chunk moved out; holds nothing.
    fn empty() -> Self {
        Chunk {
            bytes: Vec::new(),
            start: 0,
        }
    }

    /// Copies as much of `bytes` as fits; how much.
    fn fill(&mut self, bytes: &[u8]) -> usize {
        let taken = bytes.len().min(CHUNK - self.data().len());
        self.bytes.extend_from_slice(&bytes[..taken]);
        taken
    }

    fn is_full(&self) -> bool {
        self.data().len() == CHUNK
    }

    fn data(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    fn emptied(mut self) -> Self {
        self.bytes.truncate(self.start);
        self
    }
}

/// Keeps the I/O error in the chain, so a full disk is still recognised as one.
fn file_error(path: &Path, source: io::Error) -> BlobError {
    generic(Box::new(FileError {
        path: path.to_owned(),
        source,
    }))
}

#[derive(Debug, thiserror::Error)]
#[error("could not write `{}`", path.display())]
struct FileError {
    path: PathBuf,
    source: io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ at every offset, so a chunk written at the wrong place shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
    }

    async fn write_in_pieces(path: &Path, root: &Path, data: &[u8], piece: usize) {
        let mut writer = FileWriter::create(path.to_owned(), root.to_owned())
            .await
            .expect("create");
        for piece in data.chunks(piece) {
            writer.write(piece).await.expect("write");
        }
        writer.finish().await.expect("finish");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn pieces_of_any_size_land_in_order_in_a_private_file_and_nothing_else_stays() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("binaries/b1/part-1");
        // Spans several chunks, ends off a block boundary, arrives in odd-sized pieces.
        let data = pattern(2 * CHUNK + 3 * ALIGN + 123);
        write_in_pieces(&path, root.path(), &data, 100_003).await;
        assert_eq!(std::fs::read(&path).expect("read"), data);
        assert_eq!(names(path.parent().expect("parent")), ["part-1"]);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // Written again: replaced whole, shorter than before.
        let shorter = pattern(ALIGN - 1);
        write_in_pieces(&path, root.path(), &shorter, 1000).await;
        assert_eq!(std::fs::read(&path).expect("read"), shorter);
        assert_eq!(names(path.parent().expect("parent")), ["part-1"]);
    }

    #[tokio::test]
    async fn a_writer_dropped_before_finish_leaves_no_file() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("part-1");
        let mut writer = FileWriter::create(path.clone(), root.path().to_owned())
            .await
            .expect("create");
        writer.write(&pattern(CHUNK + 10)).await.expect("write");
        drop(writer);
        assert!(names(root.path()).is_empty(), "{:?}", names(root.path()));
    }

    #[cfg(target_os = "linux")]
    fn skipped() {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the temp dir's file system refuses O_DIRECT"
        );
    }

    /// Whether the file system under `dir` opens files for direct I/O.
    #[cfg(target_os = "linux")]
    fn takes_direct_io(dir: &Path) -> bool {
        open_new(&dir.join("probe"), true).is_ok()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn writes_bypass_the_page_cache_where_the_file_system_allows_it() {
        let root = tempfile::tempdir().expect("temp dir");
        if !takes_direct_io(root.path()) {
            skipped();
            return;
        }
        let path = root.path().join("part-1");
        let mut writer = FileWriter::create(path.clone(), root.path().to_owned())
            .await
            .expect("create");
        writer.write(&pattern(CHUNK)).await.expect("write");
        writer.wait_in_flight().await.expect("written");
        let flags = rustix::fs::fcntl_getfl(&writer.file.file).expect("flags");
        assert!(flags.contains(rustix::fs::OFlags::DIRECT), "{flags:?}");
        assert!(writer.file.direct.load(Ordering::Relaxed));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_the_file_system_refuses_to_take_direct_is_written_buffered() {
        let root = tempfile::tempdir().expect("temp dir");
        if !takes_direct_io(root.path()) {
            skipped();
            return;
        }
        let (temp, target) = open_temp(&root.path().join("part-1")).expect("open");
        assert!(target.direct.load(Ordering::Relaxed));
        // One byte past an aligned buffer's start: no direct write takes that.
        let mut chunk = Chunk::new();
        let data = pattern(ALIGN + 1);
        chunk.fill(&data);
        target.write_at(&chunk.data()[1..], 0).expect("written");
        assert!(!target.direct.load(Ordering::Relaxed));
        let flags = rustix::fs::fcntl_getfl(&target.file).expect("flags");
        assert!(!flags.contains(rustix::fs::OFlags::DIRECT), "{flags:?}");
        assert_eq!(std::fs::read(&temp).expect("read"), data[1..]);
    }
}
