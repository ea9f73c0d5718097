//! Owner-only file modes for everything the service keeps on disk (the data directory, the
//! database and its WAL files, firmware blobs), whatever the umask of the process.
//!
//! The data directory's 0700 alone keeps other users out; the files' own modes keep them
//! private when the directory is copied, backed up or made traversable later.

use std::io;
use std::path::Path;

/// Mode of directories the service creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files the service writes.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents with mode 0700. An existing directory keeps its mode:
/// it may be a mount point or a directory the operator prepared on purpose.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Sets `path` to `mode` when it exists and has another mode (so a file already private needs
/// no ownership of it).
pub fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let current = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err),
        };
        if current != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Makes `file` 0600 and every directory between it and `root` 0700.
pub fn restrict_below(root: &Path, file: &Path) -> io::Result<()> {
    restrict(file, FILE_MODE)?;
    for dir in file.ancestors().skip(1) {
        if dir == root || !dir.starts_with(root) {
            break;
        }
        restrict(dir, DIR_MODE)?;
    }
    Ok(())
}

/// Creates `file` empty with mode 0600 when missing, else sets it to 0600.
pub fn create_file(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(FILE_MODE);
    }
    options.open(file)?;
    restrict(file, FILE_MODE)
}
