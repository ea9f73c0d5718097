//! Bulk device writes, set-based: the selected devices go into a per-connection temporary table
//! (`bulk_selected`) in one statement, and each step (refusal checks, the update, one audit
//! event per device, the affected list) is one statement over that table, never a loop over
//! rows. Call everything on one write transaction; the temporary table's rows roll back with it.
//!
//! Lists from the request (device references, import rows) enter SQL as one JSON array: one
//! bound parameter however long the list. How a statement reads such a list, names the
//! temporary table and formats IDs is spelled per backend (`dialect`).

use chrono::{DateTime, Utc};

use super::dialect::{self, temp_table};
use super::{Backend, Conn, Query, push_tag_filter, query};
use crate::api::{AuditAction, Cohort, CohortId, OrgId, Product, ProductId};
use crate::server::store::events::Actor;

/// The selection table, as statements name it.
pub(super) fn selected(backend: Backend) -> String {
    temp_table(backend, "bulk_selected")
}

/// Creates (once per connection) and empties the selection table.
pub async fn reset_selection(conn: &mut Conn) -> sqlx::Result<()> {
    // The identifier's index serves SQLite, which probes it once per named device in
    // `missing`. PostgreSQL hash-joins the list against the analyzed selection instead, and
    // keeping that index up cost half of filling a selection of 100,000 devices
    // (bench/RESULTS.md). Identifiers are unique in the org, so the primary key alone keeps a
    // device from being selected twice.
    let identifier_index = match conn.backend() {
        Backend::Sqlite => " UNIQUE",
        Backend::Postgres => "",
    };
    query(format!(
        "CREATE TEMP TABLE IF NOT EXISTS bulk_selected (id TEXT PRIMARY KEY, \
         identifier TEXT NOT NULL{identifier_index}, product_id TEXT NOT NULL, cohort_id TEXT)"
    ))
    .execute(&mut *conn)
    .await?;
    query(format!("DELETE FROM {}", selected(conn.backend())))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// Selects the named devices: `ids` by ID, `identifiers` by identifier. Unknown ones are
/// skipped here; [`missing`] reports them.
pub async fn select_named(
    conn: &mut Conn,
    org_id: &OrgId,
    ids: &[String],
    identifiers: &[String],
) -> sqlx::Result<()> {
    for (column, list) in [("id", ids), ("identifier", identifiers)] {
        if list.is_empty() {
            continue;
        }
        // The join fixes the loop order in SQLite: one index lookup per named device. Left
        // to itself the planner scans the org's devices and, for each, the whole list.
        // (`WHERE TRUE` tells SQLite's parser the join's ON ends before ON CONFLICT.)
        let backend = conn.backend();
        let sql = format!(
            "INSERT INTO {} (id, identifier, product_id, cohort_id) \
             SELECT d.id, d.identifier, d.product_id, d.cohort_id FROM {} \
             {} device_records d ON d.org_id = $1 AND d.{column} = j.value WHERE TRUE \
             ON CONFLICT DO NOTHING",
            selected(backend),
            dialect::json_strings(backend, "$2", "j"),
            dialect::join_in_order(backend),
        );
        query(&sql)
            .bind(org_id.as_str())
            .bind(json_list(list))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Drops selected devices outside `products` (a product-scoped key's view).
pub async fn restrict_to(conn: &mut Conn, products: &[ProductId]) -> sqlx::Result<()> {
    let ids: Vec<String> = products.iter().map(|p| p.as_str().to_owned()).collect();
    let sql = format!(
        "DELETE FROM {} WHERE product_id NOT IN (SELECT j.value FROM {})",
        selected(conn.backend()),
        dialect::json_strings(conn.backend(), "$1", "j"),
    );
    query(sql).bind(json_list(&ids)).execute(&mut *conn).await?;
    Ok(())
}

/// The named devices that are not selected (they do not exist, as far as the caller can
/// see), in request order within each list.
pub async fn missing(
    conn: &mut Conn,
    ids: &[String],
    identifiers: &[String],
) -> sqlx::Result<Vec<String>> {
    let mut missing = Vec::new();
    for (column, list) in [("id", ids), ("identifier", identifiers)] {
        if list.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT j.value FROM {} WHERE NOT EXISTS \
             (SELECT 1 FROM {} s WHERE s.{column} = j.value) ORDER BY j.key",
            dialect::json_strings(conn.backend(), "$1", "j"),
            selected(conn.backend()),
        );
        let rows: Vec<(String,)> = query(&sql)
            .bind(json_list(list))
            .fetch_all(&mut *conn)
            .await?;
        missing.extend(rows.into_iter().map(|(value,)| value));
    }
    Ok(missing)
}

/// Gives the planner the filled selection's statistics (PostgreSQL; nothing on SQLite).
pub async fn analyze_selection(conn: &mut Conn) -> sqlx::Result<()> {
    if let Some(sql) = dialect::analyze_temp(conn.backend(), "bulk_selected") {
        query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which cohort a filter selection asks for.
#[derive(Debug, Clone, Copy)]
pub enum CohortFilter<'a> {
    Any,
    None,
    Is(&'a CohortId),
}

pub struct Filter<'a> {
    pub product_id: Option<&'a ProductId>,
    pub cohort: CohortFilter<'a>,
    pub tags: &'a [String],
    pub target: Option<&'a str>,
}

/// Selects every device matching `filter`, in one statement.
pub async fn select_filtered(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &Filter<'_>,
) -> sqlx::Result<()> {
    let mut qb = query(format!(
        "INSERT INTO {} (id, identifier, product_id, cohort_id) \
         SELECT d.id, d.identifier, d.product_id, d.cohort_id FROM device_records d \
         WHERE d.org_id = ",
        selected(conn.backend()),
    ));
    qb.push_bind(org_id.as_str().to_owned());
    if let Some(product_id) = filter.product_id {
        qb.push(" AND d.product_id = ")
            .push_bind(product_id.as_str().to_owned());
    }
    match filter.cohort {
        CohortFilter::Any => {}
        CohortFilter::None => {
            qb.push(" AND d.cohort_id IS NULL");
        }
        CohortFilter::Is(id) => {
            qb.push(" AND d.cohort_id = ")
                .push_bind(id.as_str().to_owned());
        }
    }
    push_tag_filter(&mut qb, conn.backend(), "d.tags", filter.tags);
    if let Some(target) = filter.target {
        qb.push(" AND d.target = ").push_bind(target.to_owned());
    }
    qb.execute(&mut *conn).await?;
    Ok(())
}

/// What a bulk operation does to each selected device; decides which devices it changes.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Move {
        to_product: &'a Product,
        to_cohort: Option<&'a Cohort>,
    },
    Assign {
        cohort: &'a Cohort,
    },
    Unassign,
    /// Writes each selected device's planned override (`configs_bulk::plan_changes`); the
    /// device rows themselves stay as they are.
    Configure {
        product_id: &'a ProductId,
        message: &'a str,
        /// The audit event's details, secrets masked (the device count is added).
        details: &'a serde_json::Value,
    },
}

impl Change<'_> {
    /// Appends the condition (on `s`, a `bulk_selected` row) under which a device changes.
    pub(super) fn push_predicate(&self, qb: &mut Query<'_>, backend: Backend) {
        match self {
            Change::Move { to_product, .. } => {
                qb.push("s.product_id <> ")
                    .push_bind(to_product.id.as_str().to_owned());
            }
            Change::Assign { cohort } => {
                qb.push("s.cohort_id IS DISTINCT FROM ")
                    .push_bind(cohort.id.as_str().to_owned());
            }
            Change::Unassign => {
                qb.push("s.cohort_id IS NOT NULL");
            }
            Change::Configure { .. } => {
                qb.push("s.id IN (SELECT x.id FROM ")
                    .push(super::configs_bulk::changes(backend))
                    .push(" x)");
            }
        }
    }

    pub(super) fn action(&self) -> AuditAction {
        match self {
            Change::Move { .. } => AuditAction::DeviceMoved,
            Change::Assign { .. } => AuditAction::DeviceCohortAssigned,
            Change::Unassign => AuditAction::DeviceCohortUnassigned,
            Change::Configure { .. } => AuditAction::ConfigUpdated,
        }
    }
}

/// How many devices are selected, and how many of them `change` would change.
pub async fn counts(conn: &mut Conn, change: &Change<'_>) -> sqlx::Result<(u64, u64)> {
    let mut qb = query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN ");
    change.push_predicate(&mut qb, conn.backend());
    qb.push(" THEN 1 ELSE 0 END), 0) FROM ")
        .push(selected(conn.backend()))
        .push(" s");
    let (total, changing): (i64, i64) = qb.fetch_one(&mut *conn).await?;
    Ok((to_u64(total), to_u64(changing)))
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Selected devices not in `product_id`: how many, and the identifiers of the first `limit`
/// (`None`: all).
pub async fn outside_product(
    conn: &mut Conn,
    product_id: &ProductId,
    limit: Option<usize>,
) -> sqlx::Result<(u64, Vec<(String, String)>)> {
    let table = selected(conn.backend());
    let (count,): (i64,) = query(format!(
        "SELECT COUNT(*) FROM {table} WHERE product_id <> $1"
    ))
    .bind(product_id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let rows: Vec<(String, String)> = query(format!(
        "SELECT s.identifier, p.name FROM {table} s \
         JOIN products p ON p.id = s.product_id WHERE s.product_id <> $1 ORDER BY s.id LIMIT $2"
    ))
    .bind(product_id.as_str())
    .bind(limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX)))
    .fetch_all(&mut *conn)
    .await?;
    Ok((to_u64(count), rows))
}

/// Drops the selected devices not in `product_id` (a dry run's refusals) from the selection.
pub async fn drop_outside(conn: &mut Conn, product_id: &ProductId) -> sqlx::Result<()> {
    query(format!(
        "DELETE FROM {} WHERE product_id <> $1",
        selected(conn.backend())
    ))
    .bind(product_id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Who acted and when, for the audit events of one bulk operation.
pub struct Stamp<'a> {
    pub org_id: &'a OrgId,
    pub actor: Actor<'a>,
    pub now: DateTime<Utc>,
}

/// The first 24 hex digits of a fresh, time-ordered ID body; SQL appends 8 hex digits of a row
/// number, so the IDs of one operation are unique and ordered among themselves and sort with
/// the IDs made around them.
pub fn id_base(fresh_id: &str) -> String {
    let body = fresh_id.split_once('_').map_or(fresh_id, |(_, body)| body);
    body.get(..24).unwrap_or(body).to_owned()
}

/// Applies `change` to every selected device it changes, records it in the audit trail
/// (`bulk_events`), and returns how many changed. `fail_after` injects a failure (tests).
pub async fn apply(
    conn: &mut Conn,
    change: &Change<'_>,
    stamp: &Stamp<'_>,
    fail_after: FailAfterRows,
) -> sqlx::Result<u64> {
    super::bulk_events::record_change(conn, change, stamp).await?;
    if let Change::Move { to_product, .. } = change {
        revoke_certificates(conn, change, stamp.now).await?;
        super::configs_bulk::clear_moved(conn, change, &to_product.id, stamp).await?;
    }
    let mut qb = query("UPDATE devices SET ");
    match change {
        Change::Move {
            to_product,
            to_cohort,
        } => {
            qb.push("product_id = ")
                .push_bind(to_product.id.as_str().to_owned());
            qb.push(", cohort_id = ")
                .push_bind(to_cohort.map(|c| c.id.as_str().to_owned()));
            qb.push(", needs_provisioning = TRUE, credentials_revoked_at = ")
                .push_bind(stamp.now);
            qb.push(", ");
        }
        Change::Assign { cohort } => {
            qb.push("cohort_id = ")
                .push_bind(cohort.id.as_str().to_owned());
            qb.push(", ");
        }
        Change::Unassign => {
            qb.push("cohort_id = NULL, ");
        }
        Change::Configure {
            product_id,
            message,
            ..
        } => {
            let changed =
                super::configs_bulk::write(conn, product_id, message, &stamp.actor, stamp.now)
                    .await?;
            inject_failure(fail_after, changed)?;
            return Ok(changed);
        }
    }
    qb.push("updated_at = ").push_bind(stamp.now);
    qb.push(", revision = revision + 1 WHERE id IN (SELECT s.id FROM ")
        .push(selected(conn.backend()))
        .push(" s WHERE ");
    change.push_predicate(&mut qb, conn.backend());
    qb.push(")");
    let changed = qb.execute(&mut *conn).await?.rows_affected();
    inject_failure(fail_after, changed)?;
    Ok(changed)
}

/// Why a moved device's certificates stop working: they were issued for its old product.
pub const MOVED_REASON: &str = "device moved to another product";

/// Revokes every certificate of the devices `change` changes, in one statement over the
/// selection (a move of 100,000 devices is one UPDATE, not one per device).
async fn revoke_certificates(
    conn: &mut Conn,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let mut qb = query("UPDATE device_certificates SET revoked_at = ");
    qb.push_bind(now);
    qb.push(", revoked_reason = ").push_bind(MOVED_REASON);
    qb.push(" WHERE revoked_at IS NULL AND device_id IN (SELECT s.id FROM ")
        .push(selected(conn.backend()))
        .push(" s WHERE ");
    change.push_predicate(&mut qb, conn.backend());
    qb.push(")");
    Ok(qb.execute(&mut *conn).await?.rows_affected())
}

/// Fault injection for tests: a bulk write fails inside its transaction once it touched more
/// than this many rows, so tests can show that nothing of it survives. Without the `test-hooks`
/// feature it holds nothing and never fires.
#[derive(Clone, Copy, Debug, Default)]
pub struct FailAfterRows(#[cfg(feature = "test-hooks")] pub Option<u64>);

/// Fails once a write touched more rows than `limit` allows, inside the transaction.
pub fn inject_failure(limit: FailAfterRows, rows: u64) -> sqlx::Result<()> {
    #[cfg(feature = "test-hooks")]
    if let Some(limit) = limit.0.filter(|limit| rows > *limit) {
        return Err(sqlx::Error::Protocol(format!(
            "injected failure after {limit} of {rows} rows"
        )));
    }
    let _ = (limit, rows);
    Ok(())
}
