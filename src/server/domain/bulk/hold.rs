//! Fault injection for the replica tests: a bulk change that has written every row waits
//! before its commit until the test lets it go on, so a test can kill the service exactly
//! there and show that nothing of the change survives. Only with the `test-hooks` feature
//! (which only `cargo test` enables); otherwise a no-op.

/// The directory where a held bulk change says so (it creates `holding`) and waits for
/// `release`.
#[cfg(feature = "test-hooks")]
const HOLD_DIR_ENV: &str = "FLEET_TEST_HOLD_BULK_COMMIT_DIR";

/// Waits before the commit when a test asked for that.
pub async fn before_commit() {
    #[cfg(feature = "test-hooks")]
    if let Some(dir) = std::env::var_os(HOLD_DIR_ENV).map(std::path::PathBuf::from) {
        let _ = std::fs::write(dir.join("holding"), b"");
        let release = dir.join("release");
        while !release.exists() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
