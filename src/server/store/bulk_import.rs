//! Device import, set-based: validated rows go into a per-connection temporary table
//! (`bulk_import`) through one statement reading them as a JSON array, one `UPDATE … FROM` matches them to
//! existing devices, and creating, updating, the audit events and the result list are one
//! statement each. Call everything on one write transaction.

use serde::Serialize;

use super::bulk::{FailAfterRows, Stamp, inject_failure};
use super::dialect::{self, hex8, json_field, temp_table};
use super::{Backend, Conn, parse_id, query};
use crate::api::{OrgId, ProductId};

/// One validated row, as it enters SQL.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    pub line: u64,
    pub identifier: &'a str,
    pub description: Option<&'a str>,
    /// JSON text of the normalized tag list.
    pub tags: Option<String>,
    pub target: Option<&'a str>,
    pub cohort_id: Option<&'a str>,
}

/// An existing device that takes the row's identifier.
pub struct Existing {
    pub line: u64,
    pub identifier: String,
    /// The product the device is in.
    pub product: String,
    pub product_id: ProductId,
    /// In another product: always a conflict. Else it differs from the row.
    pub elsewhere: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub new: u64,
    pub differing: u64,
    pub same: u64,
}

/// The row's values equal the device's, where the row gives a value at all.
const SAME: &str = "d.description = COALESCE(i.description, d.description) \
     AND d.tags = COALESCE(i.tags, d.tags) \
     AND d.target IS NOT DISTINCT FROM COALESCE(i.target, d.target) \
     AND d.cohort_id IS NOT DISTINCT FROM COALESCE(i.cohort_id, d.cohort_id)";

/// The import table, as statements name it.
fn imported(backend: Backend) -> String {
    temp_table(backend, "bulk_import")
}

/// Loads `rows` and matches them to existing devices by identifier. `id_base` (24 hex digits)
/// prefixes the IDs of the devices to create.
pub async fn load(
    conn: &mut Conn,
    org_id: &OrgId,
    rows: &[Row<'_>],
    id_base: &str,
) -> sqlx::Result<()> {
    let backend = conn.backend();
    let table = imported(backend);
    query(format!(
        "CREATE TEMP TABLE IF NOT EXISTS bulk_import (seq {}, \
         line BIGINT NOT NULL, identifier TEXT NOT NULL UNIQUE, description TEXT, tags TEXT, \
         target TEXT, cohort_id TEXT, new_id TEXT NOT NULL, existing_id TEXT, \
         existing_product_id TEXT, existing_product TEXT, differs BOOLEAN)",
        dialect::integer_key(backend),
    ))
    .execute(&mut *conn)
    .await?;
    query(format!("DELETE FROM {table}"))
        .execute(&mut *conn)
        .await?;
    let json = serde_json::to_string(rows).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    let field = |name: &str| json_field(backend, "j.value", name);
    query(format!(
        "INSERT INTO {table} (seq, line, identifier, description, tags, target, \
         cohort_id, new_id) \
         SELECT j.key, CAST({} AS BIGINT), {}, {}, {}, {}, {}, 'dev_' || $2 || {} FROM {}",
        field("line"),
        field("identifier"),
        field("description"),
        field("tags"),
        field("target"),
        field("cohort_id"),
        hex8(backend, "j.key"),
        dialect::json_objects(backend, "$1", "j"),
    ))
    .bind(json)
    .bind(id_base)
    .execute(&mut *conn)
    .await?;
    if let Some(sql) = dialect::analyze_temp(backend, "bulk_import") {
        query(sql).execute(&mut *conn).await?;
    }
    let sql = format!(
        "UPDATE {table} AS i SET existing_id = d.id, existing_product_id = d.product_id, \
         existing_product = p.name, differs = NOT ({SAME}) \
         FROM device_records d JOIN products p ON p.id = d.product_id \
         WHERE d.org_id = $1 AND d.identifier = i.identifier"
    );
    query(&sql)
        .bind(org_id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn counts(conn: &mut Conn, product_id: &ProductId) -> sqlx::Result<Counts> {
    let (new, differing, same): (i64, i64, i64) = query(format!(
        "SELECT \
         COALESCE(SUM(CASE WHEN existing_id IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN existing_product_id = $1 AND differs THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN existing_product_id = $1 AND NOT differs THEN 1 ELSE 0 END), 0) \
         FROM {}",
        imported(conn.backend()),
    ))
    .bind(product_id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Counts {
        new: n(new),
        differing: n(differing),
        same: n(same),
    })
}

/// Rows whose identifier is taken by a device in another product or (unless `update`) by a
/// different device of this product, in row order.
pub async fn conflicts(
    conn: &mut Conn,
    product_id: &ProductId,
    update: bool,
) -> sqlx::Result<Vec<Existing>> {
    let rows: Vec<(i64, String, String, String, bool)> = query(format!(
        "SELECT line, identifier, existing_product, existing_product_id, \
         existing_product_id <> $1 \
         FROM {} WHERE existing_id IS NOT NULL \
         AND (existing_product_id <> $1 OR (differs AND NOT $2)) ORDER BY seq",
        imported(conn.backend()),
    ))
    .bind(product_id.as_str())
    .bind(update)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(line, identifier, product, product_id, elsewhere)| {
            Ok(Existing {
                line: u64::try_from(line).unwrap_or(0),
                identifier,
                product,
                product_id: parse_id!(ProductId, product_id)?,
                elsewhere,
            })
        })
        .collect()
}

/// Creates the new devices (and, with `update`, rewrites the differing ones) and records the
/// import in the audit trail (`bulk_events`). Returns (created, updated).
pub async fn apply(
    conn: &mut Conn,
    product_id: &ProductId,
    update: bool,
    stamp: &Stamp<'_>,
    fail_after: FailAfterRows,
) -> sqlx::Result<(u64, u64)> {
    let backend = conn.backend();
    let table = imported(backend);
    let created = query(format!(
        "INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, \
         revision) \
         SELECT new_id, $1, $2, cohort_id, FALSE, $3, 1 \
         FROM {table} WHERE existing_id IS NULL ORDER BY seq"
    ))
    .bind(stamp.org_id.as_str())
    .bind(product_id.as_str())
    .bind(stamp.now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    query(format!(
        "INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, \
         created_at) \
         SELECT new_id, $1, identifier, COALESCE(description, ''), COALESCE(tags, '[]'), \
         target, $2 \
         FROM {table} WHERE existing_id IS NULL ORDER BY seq"
    ))
    .bind(stamp.org_id.as_str())
    .bind(stamp.now)
    .execute(&mut *conn)
    .await?;
    inject_failure(fail_after, created)?;
    let updated = if update {
        // The details first: the revision's UPDATE below counts the devices changed.
        query(format!(
            "UPDATE device_details AS d SET description = COALESCE(i.description, d.description), \
             tags = COALESCE(i.tags, d.tags), target = COALESCE(i.target, d.target) \
             FROM {table} i WHERE d.device_id = i.existing_id AND i.differs \
             AND i.existing_product_id = $1"
        ))
        .bind(product_id.as_str())
        .execute(&mut *conn)
        .await?;
        query(format!(
            "UPDATE devices AS d SET cohort_id = COALESCE(i.cohort_id, d.cohort_id), \
             updated_at = $1, revision = d.revision + 1 \
             FROM {table} i WHERE d.id = i.existing_id AND i.differs \
             AND i.existing_product_id = $2"
        ))
        .bind(stamp.now)
        .bind(product_id.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected()
    } else {
        0
    };
    super::bulk_events::record_import(conn, product_id, (created, updated), update, stamp).await?;
    Ok((created, updated))
}
