//! All SQL of the service, one file per resource, for both backends: SQLite (the default) and
//! PostgreSQL. The domain calls these functions and never sees SQL. Statements are written once
//! with `$n` placeholders where both engines accept the same text; where they differ, the
//! spelling comes from `dialect`, chosen by the connection's [`Backend`].

pub mod api_keys;
pub mod auth_epoch;
pub mod auth_failures;
pub mod bulk;
pub mod bulk_devices;
pub mod bulk_events;
pub mod bulk_import;
pub mod cas;
pub mod cohorts;
pub mod configs;
pub mod configs_bulk;
pub mod copy;
pub mod device_certs;
pub mod device_identity;
mod device_json;
#[cfg(test)]
mod device_keys;
pub mod device_offers;
pub mod device_status;
pub mod devices;
pub mod event_log;
pub mod events;
pub mod firmware;
pub mod idempotency;
pub mod jitp_batch;
pub mod orgs;
pub mod products;
pub mod stats;
pub mod stats_counts;
pub mod update_reports;

mod conn;
pub mod dialect;
mod lazy_conn;
mod placeholders;
mod pool;
pub mod postgres;
pub mod sql;
mod sqlite_migrate;
#[cfg(test)]
pub mod test_pools;
#[cfg(feature = "test-hooks")]
pub mod write_gate;

use chrono::{DateTime, SubsecRound, Utc};

pub use conn::{Backend, Conn, Tx};
pub use lazy_conn::LazyConn;
pub use pool::{Pool, begin_write, is_disk_full, open};
pub use sql::{Query, query};

/// Timestamps are kept at microsecond precision, what PostgreSQL stores, so a value reads back
/// exactly as it was written on either backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A stored value that does not parse back: the database was edited by hand or is corrupt.
fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} `{value}` is malformed").into())
}

pub(crate) fn tags_to_text(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn tags_from_text(text: &str) -> sqlx::Result<Vec<String>> {
    serde_json::from_str(text).map_err(|_| corrupt("tag list", text))
}

/// Appends `AND <column> contains every tag` to a query.
///
/// Tags live in one JSON text column rather than a tag table: every list row needs the whole tag
/// set anyway, so one column keeps a device page to a single query without aggregation, and tag
/// sets are small. The tag charset (see `api::validate::tag`) has no `"` or `\`, so `"tag"`
/// appears in the JSON text exactly when the tag is an element. `instr` is used rather than
/// `LIKE` because SQLite's `LIKE` ignores ASCII case and tags are case-sensitive; this is the one
/// dialect-specific predicate (PostgreSQL: `strpos`).
pub(crate) fn push_tag_filter(qb: &mut Query<'_>, backend: Backend, column: &str, tags: &[String]) {
    for tag in tags {
        qb.push(format_args!(
            " AND {}({column}, ",
            dialect::position(backend)
        ));
        qb.push_bind(format!("\"{tag}\""));
        qb.push(") > 0");
    }
}

macro_rules! parse_id {
    ($ty:ty, $value:expr) => {{
        let value: String = $value;
        <$ty>::parse(&value).ok_or_else(|| $crate::server::store::corrupt_id(&value))
    }};
}
pub(crate) use parse_id;

pub(crate) fn corrupt_id(value: &str) -> sqlx::Error {
    corrupt("ID", value)
}
