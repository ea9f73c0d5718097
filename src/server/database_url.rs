//! A PostgreSQL URL as `--database-url` takes it: checked before anything connects (and never
//! repeated with its password), and why opening the database it names failed, in the terms
//! the CLI's exit codes speak: unreachable, credentials or permissions refused, or misconfigured.

use std::str::FromStr as _;

use super::storage::Database;
use super::store::postgres::redact;

/// Why a `--database-url` value is not usable; the message never shows a password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{scheme}:` is not a PostgreSQL URL (postgres://…)")]
    UnknownScheme { scheme: String },
    #[error("`{url}` is not a usable PostgreSQL URL: {reason}")]
    Invalid { url: String, reason: String },
}

/// The PostgreSQL database `url` names (`postgres://` or `postgresql://`).
pub fn parse_database_url(url: &str) -> Result<Database, DatabaseUrlError> {
    let scheme = match url.split_once(':') {
        Some((scheme, _)) if !scheme.is_empty() => scheme.to_ascii_lowercase(),
        _ => return Err(DatabaseUrlError::NotAUrl(redact(url))),
    };
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(DatabaseUrlError::UnknownScheme { scheme });
    }
    if let Err(err) = sqlx::postgres::PgConnectOptions::from_str(url) {
        return Err(DatabaseUrlError::Invalid {
            url: redact(url),
            reason: err.to_string(),
        });
    }
    Ok(Database::Postgres {
        url: url.to_owned(),
        schema: None,
    })
}

/// What went wrong opening a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFailure {
    /// The server did not answer: down, wrong host or port, a network in the way.
    Unreachable,
    /// The server refused the user, the password, or a permission the service needs.
    Refused,
    /// The URL names something that does not exist or cannot be used as given.
    Misconfigured,
    /// Anything else (a failed migration, a full disk, …).
    Other,
}

/// SQLSTATEs of a login or permission refusal: invalid_authorization_specification,
/// invalid_password, insufficient_privilege.
const REFUSED: &[&str] = &["28000", "28P01", "42501"];
/// SQLSTATE invalid_catalog_name: the database in the URL does not exist.
const NO_SUCH_DATABASE: &str = "3D000";

/// Classifies the first database error in `err`'s cause chain.
pub fn open_failure(err: &anyhow::Error) -> OpenFailure {
    for cause in err.chain() {
        let Some(sqlx) = cause.downcast_ref::<sqlx::Error>() else {
            continue;
        };
        return match sqlx {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                OpenFailure::Unreachable
            }
            sqlx::Error::Configuration(_) => OpenFailure::Misconfigured,
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some(code) if REFUSED.contains(&code) => OpenFailure::Refused,
                Some(NO_SUCH_DATABASE) => OpenFailure::Misconfigured,
                _ => OpenFailure::Other,
            },
            _ => OpenFailure::Other,
        };
    }
    OpenFailure::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_urls_are_accepted_and_errors_hide_the_password() {
        assert!(matches!(
            parse_database_url("postgresql://fleet:pw@db/fleet"),
            Ok(Database::Postgres { .. })
        ));
        let err = parse_database_url("mysql://fleet:s3cret@db/fleet").expect_err("not PostgreSQL");
        assert!(
            matches!(err, DatabaseUrlError::UnknownScheme { .. }),
            "{err}"
        );
        let err = parse_database_url("postgres://fleet:s3cret@db:notaport/fleet")
            .expect_err("a port must be a number");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(matches!(
            err,
            DatabaseUrlError::NotAUrl(_) | DatabaseUrlError::Invalid { .. }
        ));
    }

    #[test]
    fn a_refused_connection_is_unreachable_however_deep_in_the_chain() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = anyhow::Error::from(sqlx::Error::Io(io)).context("could not connect");
        assert_eq!(open_failure(&err), OpenFailure::Unreachable);
        assert_eq!(
            open_failure(&anyhow::anyhow!("no database error here")),
            OpenFailure::Other
        );
    }
}
