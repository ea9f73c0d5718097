//! Fault injection for the push tests: stop an upload part-way as if killed, or change the file
//! right after hashing it as a concurrent writer would. Compiled in only with the `test-hooks`
//! feature (which only `cargo test` enables); otherwise every hook is a no-op.

use std::path::Path;

use crate::error::Result;

/// Stops a push after this many uploaded parts.
#[cfg(feature = "test-hooks")]
const STOP_AFTER_PARTS_ENV: &str = "FLEET_TEST_STOP_AFTER_PARTS";
/// Flips the first byte of the file right after hashing it.
#[cfg(feature = "test-hooks")]
const MUTATE_AFTER_HASH_ENV: &str = "FLEET_TEST_MUTATE_AFTER_HASH";

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
