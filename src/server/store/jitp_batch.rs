//! The set-based SQL of a batch of devices provisioned just in time: what the batch must check
//! (archived products, identifiers and certificates taken meanwhile, JITP cohorts still in
//! their product) in one statement each, and the devices written as multi-row inserts (their
//! certificates by `device_identity::insert_presented_all`), so a batch of hundreds costs a
//! handful of statements.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{Conn, query, tags_to_text};
use crate::api::{CohortId, DeviceId, OrgId, ProductId};

/// Rows per multi-row statement: 11 arguments a row keeps a statement near the check-in
/// writer's size (see `device_status::ROWS_PER_STATEMENT`).
const ROWS_PER_STATEMENT: usize = 100;

/// The products of `product_ids` that are archived.
pub async fn archived_products(
    conn: &mut Conn,
    product_ids: &[&str],
) -> sqlx::Result<HashSet<String>> {
    if product_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = query("SELECT id FROM products WHERE archived AND id IN (");
    q.push_list(product_ids.iter().copied()).push(")");
    let rows: Vec<(String,)> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The identifiers of `identifiers` that a device of `org_id` already has. One organization a
/// statement, so the lookup uses the `(org_id, identifier)` unique index.
pub async fn taken_identifiers(
    conn: &mut Conn,
    org_id: &str,
    identifiers: &[&str],
) -> sqlx::Result<HashSet<String>> {
    if identifiers.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = query("SELECT identifier FROM device_details WHERE org_id = ");
    q.push_bind(org_id).push(" AND identifier IN (");
    q.push_list(identifiers.iter().copied()).push(")");
    let rows: Vec<(String,)> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(identifier,)| identifier).collect())
}

/// The fingerprints of `fingerprints` already recorded for some device.
pub async fn recorded_fingerprints(
    conn: &mut Conn,
    fingerprints: &[&str],
) -> sqlx::Result<HashSet<String>> {
    if fingerprints.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = query("SELECT fingerprint FROM device_certificates WHERE fingerprint IN (");
    q.push_list(fingerprints.iter().copied()).push(")");
    let rows: Vec<(String,)> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(fingerprint,)| fingerprint).collect())
}

/// Of the `(cohort, product)` pairs, those where the cohort still belongs to the product.
pub async fn cohorts_in_products(
    conn: &mut Conn,
    pairs: &[(&str, &str)],
) -> sqlx::Result<HashSet<(String, String)>> {
    if pairs.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = query("SELECT id, product_id FROM cohorts WHERE id IN (");
    q.push_list(pairs.iter().map(|(cohort, _)| *cohort))
        .push(")");
    let rows: Vec<(String, String)> = q.fetch_all(conn).await?;
    let wanted: HashSet<(&str, &str)> = pairs.iter().copied().collect();
    Ok(rows
        .into_iter()
        .filter(|(cohort, product)| wanted.contains(&(cohort.as_str(), product.as_str())))
        .collect())
}

/// A device of the batch, with its CA's JITP defaults resolved.
pub struct NewDevice<'a> {
    pub id: &'a DeviceId,
    pub org_id: &'a OrgId,
    pub product_id: &'a ProductId,
    pub identifier: &'a str,
    pub cohort_id: Option<&'a CohortId>,
    pub tags: &'a [String],
    pub target: Option<&'a str>,
    pub description: &'a str,
}

/// Inserts `devices` as `devices::insert` would one by one (revision 1, not quarantined).
pub async fn insert_devices(
    conn: &mut Conn,
    devices: &[NewDevice<'_>],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    for chunk in devices.chunks(ROWS_PER_STATEMENT) {
        let mut q = query(
            "INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, \
             revision) VALUES ",
        );
        for (i, d) in chunk.iter().enumerate() {
            // Each placeholder once and in order, so SQLite runs the statement with `?`.
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(d.id.as_str()).push(", ");
            q.push_bind(d.org_id.as_str()).push(", ");
            q.push_bind(d.product_id.as_str()).push(", ");
            q.push_bind(d.cohort_id.map(CohortId::as_str))
                .push(", FALSE, ");
            q.push_bind(now).push(", 1)");
        }
        q.execute(&mut *conn).await?;
        let mut q = query(
            "INSERT INTO device_details (device_id, org_id, identifier, description, tags, \
             target, created_at) VALUES ",
        );
        for (i, d) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.push_bind(d.id.as_str()).push(", ");
            q.push_bind(d.org_id.as_str()).push(", ");
            q.push_bind(d.identifier).push(", ");
            q.push_bind(d.description).push(", ");
            q.push_bind(tags_to_text(d.tags)).push(", ");
            q.push_bind(d.target).push(", ");
            q.push_bind(now).push(")");
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
