//! The open-file limit: every connection is a file descriptor, and the default soft limit
//! (often 1024) is far below what the service can hold, so it is raised to the hard limit at
//! start.

/// Where the soft limit goes when the hard limit is "unlimited" (macOS refuses more than
/// its kernel maximum anyway; Linux never reports unlimited for open files).
#[cfg(unix)]
const UNLIMITED_TARGET: u64 = 1 << 20;

/// Raises the soft open-file limit to the hard limit, logs the figure and returns it; `None`
/// where the platform has no such limit.
#[cfg(unix)]
pub fn raise_to_hard_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

    let before = getrlimit(Resource::Nofile);
    let target = before.maximum.unwrap_or(UNLIMITED_TARGET);
    let current = before.current.unwrap_or(u64::MAX);
    if current >= target {
        tracing::info!(open_file_limit = current, "open-file limit");
        return Some(current);
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: before.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::info!(
                open_file_limit = target,
                was = current,
                "raised the open-file limit to the hard limit"
            );
            Some(target)
        }
        Err(err) => {
            tracing::warn!(
                open_file_limit = current,
                hard_limit = target,
                error = %err,
                "could not raise the open-file limit; hint: raise it with `ulimit -n` before starting"
            );
            Some(current)
        }
    }
}

#[cfg(not(unix))]
pub fn raise_to_hard_limit() -> Option<u64> {
    None
}
