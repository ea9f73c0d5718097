//! What a bulk answer lists: the devices an operation changed (or would change), in full as the
//! device list shows them, or only their IDs. One statement each over the operation's
//! temporary table (`bulk_selected` for move/assign/unassign, `bulk_import` for imports).

use chrono::{DateTime, Utc};

use super::bulk::{Change, selected};
use super::dialect::{comma_list_ordered, temp_table};
use super::{Conn, Query, parse_id, query, tags_from_text};
use crate::api::{CohortId, Device, DeviceId, ProductId};

/// The device columns, in [`Row`]'s order, from `device_records d`, `products p`, `cohorts c`.
const COLUMNS: &str = "d.id, d.identifier, d.product_id, p.name AS product, d.cohort_id, \
     c.name AS cohort, d.description, d.tags, d.target, d.quarantined, d.needs_provisioning, \
     d.created_at, d.updated_at, d.revision";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    identifier: String,
    product_id: String,
    product: String,
    cohort_id: Option<String>,
    cohort: Option<String>,
    description: String,
    tags: String,
    target: Option<String>,
    quarantined: bool,
    needs_provisioning: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Device> {
        Ok(Device {
            id: parse_id!(DeviceId, self.id)?,
            identifier: self.identifier,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            cohort_id: self
                .cohort_id
                .map(|id| parse_id!(CohortId, id))
                .transpose()?,
            cohort: self.cohort,
            description: self.description,
            tags: tags_from_text(&self.tags)?,
            target: self.target,
            quarantined: self.quarantined,
            needs_provisioning: self.needs_provisioning,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        })
    }
}

fn push_limit(qb: &mut Query<'_>, limit: Option<usize>) {
    // No LIMIT at all for "every row": PostgreSQL refuses SQLite's `LIMIT -1`.
    if let Some(limit) = limit {
        qb.push(" LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    }
}

async fn fetch_devices(conn: &mut Conn, qb: Query<'_>) -> sqlx::Result<Vec<Device>> {
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}

/// The selected devices `change` changes, as they are in the table now, in ID order, at most
/// `limit`. After the change that is how it left them; before it (a dry run) the caller
/// applies the change to them. The predicate reads the selection's snapshot of each device,
/// so it picks the same devices before and after the update.
pub async fn changed(
    conn: &mut Conn,
    change: &Change<'_>,
    limit: Option<usize>,
) -> sqlx::Result<Vec<Device>> {
    let mut qb = query(format!(
        "SELECT {COLUMNS} FROM {} s JOIN device_records d ON d.id = s.id \
         JOIN products p ON p.id = d.product_id LEFT JOIN cohorts c ON c.id = d.cohort_id \
         WHERE ",
        selected(conn.backend()),
    ));
    change.push_predicate(&mut qb, conn.backend());
    qb.push(" ORDER BY s.id");
    push_limit(&mut qb, limit);
    fetch_devices(conn, qb).await
}

/// The IDs of the selected devices `change` changes, in ID order.
pub async fn changed_ids(conn: &mut Conn, change: &Change<'_>) -> sqlx::Result<Vec<DeviceId>> {
    let mut qb = query(format!(
        "SELECT {} FROM {} s WHERE ",
        comma_list_ordered(conn.backend(), "s.id", "s.id"),
        selected(conn.backend())
    ));
    change.push_predicate(&mut qb, conn.backend());
    ids(conn, qb).await
}

/// The IDs a one-row, one-column query joined with commas. One row rather than one per device:
/// handing 100,000 rows over one by one costs more than the query.
async fn ids(conn: &mut Conn, qb: Query<'_>) -> sqlx::Result<Vec<DeviceId>> {
    let (joined,): (Option<String>,) = qb.fetch_one(&mut *conn).await?;
    joined
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| parse_id!(DeviceId, id.to_owned()))
        .collect()
}

/// Which rows an import writes: new ones, and differing ones when updating (`update`, a
/// placeholder).
fn written(update: &str) -> String {
    format!("(i.existing_id IS NULL OR (i.differs AND {update}))")
}

/// The devices an import wrote, as they are now, in row order, at most `limit`.
pub async fn imported(
    conn: &mut Conn,
    update: bool,
    limit: Option<usize>,
) -> sqlx::Result<Vec<Device>> {
    let mut qb = query(format!(
        "SELECT {COLUMNS} FROM {} i \
         JOIN device_records d ON d.id = COALESCE(i.existing_id, i.new_id) \
         JOIN products p ON p.id = d.product_id LEFT JOIN cohorts c ON c.id = d.cohort_id \
         WHERE {} ORDER BY i.seq",
        temp_table(conn.backend(), "bulk_import"),
        written("$1"),
    ))
    .bind(update);
    push_limit(&mut qb, limit);
    fetch_devices(conn, qb).await
}

/// The devices an import would write (a dry run, before anything exists): each row's values
/// over the existing device's, `now` as the time of the change, in row order, at most `limit`.
pub async fn would_import(
    conn: &mut Conn,
    product_id: &ProductId,
    update: bool,
    now: DateTime<Utc>,
    limit: Option<usize>,
) -> sqlx::Result<Vec<Device>> {
    let mut qb = query(format!(
        "SELECT COALESCE(i.existing_id, i.new_id) AS id, i.identifier, p.id AS product_id, \
         p.name AS product, COALESCE(i.cohort_id, d.cohort_id) AS cohort_id, c.name AS cohort, \
         COALESCE(i.description, d.description, '') AS description, \
         COALESCE(i.tags, d.tags, '[]') AS tags, COALESCE(i.target, d.target) AS target, \
         COALESCE(d.quarantined, FALSE) AS quarantined, \
         COALESCE(d.needs_provisioning, FALSE) AS needs_provisioning, \
         COALESCE(d.created_at, $3) AS created_at, $3 AS updated_at, \
         COALESCE(d.revision + 1, 1) AS revision \
         FROM {} i JOIN products p ON p.id = $1 \
         LEFT JOIN device_records d ON d.id = i.existing_id \
         LEFT JOIN cohorts c ON c.id = COALESCE(i.cohort_id, d.cohort_id) \
         WHERE {} ORDER BY i.seq",
        temp_table(conn.backend(), "bulk_import"),
        written("$2"),
    ))
    .bind(product_id.as_str())
    .bind(update)
    .bind(now);
    push_limit(&mut qb, limit);
    fetch_devices(conn, qb).await
}

/// The IDs of the devices an import writes (or, in a dry run, would write), in row order.
pub async fn imported_ids(conn: &mut Conn, update: bool) -> sqlx::Result<Vec<DeviceId>> {
    let qb = query(format!(
        "SELECT {} FROM {} i WHERE {}",
        comma_list_ordered(conn.backend(), "COALESCE(i.existing_id, i.new_id)", "i.seq"),
        temp_table(conn.backend(), "bulk_import"),
        written("$1"),
    ))
    .bind(update);
    ids(conn, qb).await
}
