//! Fault injection for the push tests: stop an upload part-way as if killed, change the file
//! right after hashing it as a concurrent writer would, or pause an upload part-way until the
//! test lets it go on (to interleave two pushes exactly). Compiled in only with the
//! `test-hooks` feature (which only `cargo test` enables); otherwise every hook is a no-op.

use std::path::Path;

use crate::error::Result;

/// Stops a push after this many uploaded parts.
#[cfg(feature = "test-hooks")]
const STOP_AFTER_PARTS_ENV: &str = "FLEET_TEST_STOP_AFTER_PARTS";
/// Flips the first byte of the file right after hashing it.
#[cfg(feature = "test-hooks")]
const MUTATE_AFTER_HASH_ENV: &str = "FLEET_TEST_MUTATE_AFTER_HASH";

/// Pauses a push after this many uploaded parts, until the test lets it go on.
#[cfg(feature = "test-hooks")]
const PAUSE_AFTER_PARTS_ENV: &str = "FLEET_TEST_PAUSE_AFTER_PARTS";
/// Where a paused push says so (it creates `paused`) and waits to go on (for `resume`).
#[cfg(feature = "test-hooks")]
const PAUSE_DIR_ENV: &str = "FLEET_TEST_PAUSE_DIR";

/// How many parts a push uploads before it pauses, if a test asked for that.
pub fn pause_after_parts() -> Option<usize> {
    #[cfg(feature = "test-hooks")]
    {
        std::env::var(PAUSE_AFTER_PARTS_ENV).ok()?.parse().ok()
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        None
    }
}

/// Creates `<pause dir>/paused`, then waits until the test creates `<pause dir>/resume`.
pub async fn pause() -> Result<()> {
    #[cfg(feature = "test-hooks")]
    {
        use crate::error::{Error, io_error};

        let dir = std::env::var_os(PAUSE_DIR_ENV)
            .map(std::path::PathBuf::from)
            .ok_or_else(|| Error::usage(format!("{PAUSE_DIR_ENV} is not set")))?;
        let paused = dir.join("paused");
        std::fs::write(&paused, b"").map_err(|err| io_error("write", &paused, err))?;
        let resume = dir.join("resume");
        while !resume.exists() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// How many parts a push may upload before it stops, if a test asked for that.
pub fn stop_after_parts() -> Option<usize> {
    #[cfg(feature = "test-hooks")]
    {
        std::env::var(STOP_AFTER_PARTS_ENV).ok()?.parse().ok()
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        None
    }
}

/// Why a push stopped early, for the error message.
pub fn stop_reason() -> &'static str {
    #[cfg(feature = "test-hooks")]
    {
        STOP_AFTER_PARTS_ENV
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        "test hook"
    }
}

/// Changes the file's first byte if a test asked for that.
pub fn mutate_after_hash(path: &Path) -> Result<()> {
    #[cfg(feature = "test-hooks")]
    {
        use crate::error::io_error;

        if std::env::var_os(MUTATE_AFTER_HASH_ENV).is_none() {
            return Ok(());
        }
        let mut bytes = std::fs::read(path).map_err(|err| io_error("read", path, err))?;
        if let Some(first) = bytes.first_mut() {
            *first ^= 0xff;
        }
        std::fs::write(path, bytes).map_err(|err| io_error("write", path, err))
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        let _ = path;
        Ok(())
    }
}
