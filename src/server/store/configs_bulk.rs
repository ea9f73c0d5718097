//! Device-level overrides written for a whole selection at once (`POST /v1/bulk/config`),
//! set-based like every bulk write: the change is computed once per distinct current override
//! (`bulk_config_groups`: old document text → new document text), the devices it changes are
//! listed with their next revision in `bulk_config_changes`, and two statements write every
//! new revision and current document. The domain decides the documents; this module only
//! moves them.

use chrono::{DateTime, Utc};

use super::bulk::selected;
use super::dialect::{self, temp_table};
use super::events::Actor;
use super::{Backend, Conn, query};
use crate::api::ProductId;

/// The key of a device without an override in `bulk_config_groups.old`: no document's text is
/// empty (every document is a JSON object).
pub const NO_DOCUMENT: &str = "";

fn groups(backend: Backend) -> String {
    temp_table(backend, "bulk_config_groups")
}

/// The changing devices, as statements name them (see [`crate::server::store::bulk::Change`]).
pub(super) fn changes(backend: Backend) -> String {
    temp_table(backend, "bulk_config_changes")
}

/// Creates (once per connection) and empties the group and change tables.
pub async fn reset(conn: &mut Conn) -> sqlx::Result<()> {
    for create in [
        "CREATE TEMP TABLE IF NOT EXISTS bulk_config_groups \
         (old TEXT PRIMARY KEY, new TEXT NOT NULL)",
        "CREATE TEMP TABLE IF NOT EXISTS bulk_config_changes \
         (id TEXT PRIMARY KEY, revision BIGINT NOT NULL, document TEXT NOT NULL)",
    ] {
        query(create).execute(&mut *conn).await?;
    }
    let backend = conn.backend();
    for table in [groups(backend), changes(backend)] {
        query(format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The distinct (cohort ID, current override text) pairs of the selected devices in
/// `product_id` (`None`: no cohort / no override). Devices sharing a pair share the outcome.
pub async fn distinct_overrides(
    conn: &mut Conn,
    product_id: &ProductId,
) -> sqlx::Result<Vec<(Option<String>, Option<String>)>> {
    query(format!(
        "SELECT DISTINCT s.cohort_id, c.document FROM {} s \
         LEFT JOIN config_documents c ON c.owner_id = s.id WHERE s.product_id = $1",
        selected(conn.backend())
    ))
    .bind(product_id.as_str())
    .fetch_all(&mut *conn)
    .await
}

/// Records which override text becomes which: `(old, new)` pairs, `old` being
/// [`NO_DOCUMENT`] for devices without one; then lists every selected device of `product_id`
/// whose override changes, with its next revision. Pairs whose text stays the same are left
/// out by the caller: their devices are unchanged.
pub async fn plan_changes(
    conn: &mut Conn,
    product_id: &ProductId,
    pairs: &[(String, String)],
) -> sqlx::Result<()> {
    let backend = conn.backend();
    if !pairs.is_empty() {
        let rows: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(old, new)| serde_json::json!({ "old": old, "new": new }))
            .collect();
        query(format!(
            "INSERT INTO {} (old, new) SELECT {}, {} FROM {}",
            groups(backend),
            dialect::json_field(backend, "j.value", "old"),
            dialect::json_field(backend, "j.value", "new"),
            dialect::json_objects(backend, "$1", "j"),
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *conn)
        .await?;
    }
    query(format!(
        "INSERT INTO {} (id, revision, document) \
         SELECT s.id, COALESCE(c.revision, 0) + 1, g.new FROM {} s \
         LEFT JOIN config_documents c ON c.owner_id = s.id \
         JOIN {} g ON g.old = COALESCE(c.document, '{NO_DOCUMENT}') \
         WHERE s.product_id = $1",
        changes(backend),
        selected(backend),
        groups(backend),
    ))
    .bind(product_id.as_str())
    .execute(&mut *conn)
    .await?;
    if let Some(sql) = dialect::analyze_temp(backend, "bulk_config_changes") {
        query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes every planned change: a kept revision and the current document of each device's
/// override in `product_id`, by `actor` at `now`. Returns how many devices changed.
pub async fn write(
    conn: &mut Conn,
    product_id: &ProductId,
    message: &str,
    actor: &Actor<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let table = changes(conn.backend());
    let written = query(format!(
        "INSERT INTO config_revisions (owner_id, product_id, cohort_id, device_id, level, \
         revision, document, message, created_at, key_id, key_name) \
         SELECT x.id, $1, NULL, x.id, 'device', x.revision, x.document, $2, $3, $4, $5 \
         FROM {table} x"
    ))
    .bind(product_id.as_str())
    .bind(message)
    .bind(now)
    .bind(actor.key_id)
    .bind(actor.key_name)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // (`WHERE TRUE` tells SQLite's parser the SELECT ends before ON CONFLICT.)
    query(format!(
        "INSERT INTO config_documents (owner_id, product_id, cohort_id, device_id, level, \
         revision, document, updated_at, key_id, key_name) \
         SELECT x.id, $1, NULL, x.id, 'device', x.revision, x.document, $2, $3, $4 \
         FROM {table} x WHERE TRUE \
         ON CONFLICT (owner_id) DO UPDATE SET product_id = excluded.product_id, \
         revision = excluded.revision, document = excluded.document, \
         updated_at = excluded.updated_at, key_id = excluded.key_id, key_name = excluded.key_name"
    ))
    .bind(product_id.as_str())
    .bind(now)
    .bind(actor.key_id)
    .bind(actor.key_name)
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// Ends the overrides of the devices a move changes: each was written for the device's old
/// product, so a non-empty one becomes a new, empty revision (its history stays), and every
/// moved device's document is filed under `to_product` — the product whose schema checks it
/// from now on. Call it before the devices' rows change (it reads the selection's snapshot).
pub async fn clear_moved(
    conn: &mut Conn,
    change: &super::bulk::Change<'_>,
    to_product: &ProductId,
    stamp: &super::bulk::Stamp<'_>,
) -> sqlx::Result<()> {
    let backend = conn.backend();
    let moved = |qb: &mut super::Query<'_>| {
        qb.push(" device_id IN (SELECT s.id FROM ")
            .push(selected(backend))
            .push(" s WHERE ");
        change.push_predicate(qb, backend);
        qb.push(")");
    };
    let message = "the device moved to another product";
    let mut qb = query(
        "INSERT INTO config_revisions (owner_id, product_id, cohort_id, device_id, level, \
         revision, document, message, created_at, key_id, key_name) \
         SELECT c.owner_id, ",
    );
    qb.push_bind(to_product.as_str().to_owned())
        .push(", NULL, c.device_id, 'device', c.revision + 1, '{}', ")
        .push_bind(message)
        .push(", ")
        .push_bind(stamp.now)
        .push(", ")
        .push_bind(stamp.actor.key_id.map(str::to_owned))
        .push(", ")
        .push_bind(stamp.actor.key_name.map(str::to_owned))
        .push(" FROM config_documents c WHERE c.document <> '{}' AND");
    moved(&mut qb);
    qb.execute(&mut *conn).await?;

    let mut qb = query(
        "UPDATE config_documents SET revision = revision + 1, document = '{}', updated_at = ",
    );
    qb.push_bind(stamp.now)
        .push(", key_id = ")
        .push_bind(stamp.actor.key_id.map(str::to_owned))
        .push(", key_name = ")
        .push_bind(stamp.actor.key_name.map(str::to_owned))
        .push(" WHERE document <> '{}' AND");
    moved(&mut qb);
    qb.execute(&mut *conn).await?;

    let mut qb = query("UPDATE config_documents SET product_id = ");
    qb.push_bind(to_product.as_str().to_owned()).push(" WHERE");
    moved(&mut qb);
    qb.execute(&mut *conn).await?;
    Ok(())
}

/// The products of the selected devices.
pub async fn selected_products(conn: &mut Conn) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = query(format!(
        "SELECT DISTINCT product_id FROM {} ORDER BY product_id",
        selected(conn.backend())
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
