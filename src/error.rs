//! The one error type of the CLI: a kind that decides the exit code, a message for people,
//! hints that say what to do next, and the underlying cause chain.

use std::fmt;

/// What went wrong, as far as a script is concerned: each kind is one exit code (DESIGN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Anything not covered below (exit 1).
    Failure,
    /// The command line or local configuration is unusable (exit 2).
    Usage,
    /// The user declined, or a confirmation was needed without a terminal or `--yes` (exit 3).
    Cancelled,
    /// Missing, unknown or insufficient credentials (exit 4).
    Auth,
    /// Part of a bulk operation was applied and the rest was not (exit 5). Every bulk request is
    /// one transaction; only an import the user asked to send in chunks (`--chunk-rows`, each
    /// chunk its own transaction) can stop half way.
    PartlyApplied,
    /// The named resource does not exist (exit 6).
    NotFound,
    /// The service refused the request: conflict or invalid input (exit 7).
    Rejected,
    /// Network failure, timeout or server error after retries (exit 8).
    Unavailable,
    /// What a command waited for will not happen: a release was halted, or missed the success
    /// rate it had to reach (exit 9, `fleet release status --wait`). Giving up waiting at
    /// `--timeout` is exit 3.
    Unmet,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Failure => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Cancelled => 3,
            ErrorKind::Auth => 4,
            ErrorKind::PartlyApplied => 5,
            ErrorKind::NotFound => 6,
            ErrorKind::Rejected => 7,
            ErrorKind::Unavailable => 8,
            ErrorKind::Unmet => 9,
        }
    }
}

/// An error on its way to the user: rendered once, centrally, on stderr.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
    pub source: Option<anyhow::Error>,
    /// The HTTP status the service answered with, when that is what failed.
    pub http_status: Option<u16>,
    /// The user answered "no" to a confirmation: not a failure to report, just the end.
    pub declined: bool,
    /// The service's per-field problems (`field`, `message`), also folded into `message`:
    /// kept apart for a command that merges them with its own (`device import`).
    pub fields: Vec<(String, String)>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hints: Vec::new(),
            source: None,
            http_status: None,
            declined: false,
            fields: Vec::new(),
        }
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failure, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }

    /// The user said no to a confirmation (exit 3): shown as a plain "cancelled", not an error.
    pub fn declined() -> Self {
        Error {
            declined: true,
            ..Self::cancelled("cancelled")
        }
    }

    /// Adds a `hint:` line telling the user what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Replaces the hints so far (the service's, say) with `hint`, where the caller knows
    /// better what to do next.
    pub fn only_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints = vec![hint.into()];
        self
    }

    /// Attaches the underlying cause, shown as `caused by:` lines.
    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The causes below the message, outermost first, without repeating the message itself.
    pub fn causes(&self) -> Vec<String> {
        let Some(source) = &self.source else {
            return Vec::new();
        };
        source
            .chain()
            .map(|cause| cause.to_string())
            .filter(|cause| cause != &self.message)
            .collect()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Wraps an I/O failure on a named local path. A path that does not exist is a usage error
/// (exit 2): the user named it, and the fix is on the command line, not a retry.
pub fn io_error(action: &str, path: &std::path::Path, err: std::io::Error) -> Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        return Error::usage(format!(
            "could not {action} `{}`: no such file or directory",
            path.display()
        ))
        .with_source(err)
        .hint("check the path");
    }
    Error::failure(format!("could not {action} `{}`", path.display())).with_source(err)
}

#[cfg(test)]
mod tests {
    use super::{ErrorKind, io_error};

    #[test]
    fn a_missing_local_file_is_a_usage_error_naming_the_path() {
        let path = std::path::Path::new("no/such/file.csv");
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = io_error("read", path, missing);
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.message.contains("`no/such/file.csv`"),
            "{}",
            err.message
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(io_error("read", path, denied).exit_code(), 1);
    }

    #[test]
    fn exit_codes_keep_their_numbers() {
        let codes = [
            ErrorKind::Failure,
            ErrorKind::Usage,
            ErrorKind::Cancelled,
            ErrorKind::Auth,
            ErrorKind::PartlyApplied,
            ErrorKind::NotFound,
            ErrorKind::Rejected,
            ErrorKind::Unavailable,
            ErrorKind::Unmet,
        ]
        .map(ErrorKind::exit_code);
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
}
