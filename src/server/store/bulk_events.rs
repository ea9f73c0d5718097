//! The audit trail of bulk operations: one event per operation and product (who, when, what,
//! how many devices), and one compact `event_devices` row per changed device (the event, and
//! the device's facts from before the change), so each device's history still finds the
//! operation. A few statements per operation, never one per device: 100,000 full event rows
//! (six indexes each, JSON details) cost more than the change itself.

use serde_json::{Value, json};

use super::bulk::{Change, Stamp, selected};
use super::dialect::temp_table;
use super::events::AuditEvent;
use super::{Conn, parse_id, query};
use crate::api::{AuditAction, ProductId};

/// The event's own details: what the operation did, and to how many devices (of the event's
/// product).
fn change_details(change: &Change<'_>, devices: i64) -> Value {
    match change {
        Change::Move {
            to_product,
            to_cohort,
        } => json!({
            "devices": devices,
            "to_product_id": to_product.id,
            "to_product": to_product.name,
            "to_cohort_id": to_cohort.map(|c| &c.id),
        }),
        Change::Assign { cohort } => json!({ "devices": devices, "to_cohort_id": cohort.id }),
        Change::Unassign => json!({ "devices": devices }),
        Change::Configure { details, .. } => {
            let mut details = (*details).clone();
            if let Some(object) = details.as_object_mut() {
                object.insert("devices".into(), devices.into());
            }
            details
        }
    }
}

/// Records `change` of the selected devices it changes: call it before the change is applied
/// (the selection table keeps each device's state from before either way). A move is one
/// event in the target product; a cohort change one event per product of the devices.
pub async fn record_change(
    conn: &mut Conn,
    change: &Change<'_>,
    stamp: &Stamp<'_>,
) -> sqlx::Result<()> {
    let table = selected(conn.backend());
    let mut qb = query(format!(
        "SELECT s.product_id, COUNT(*) FROM {table} s WHERE "
    ));
    change.push_predicate(&mut qb, conn.backend());
    qb.push(" GROUP BY s.product_id ORDER BY s.product_id");
    let by_product: Vec<(String, i64)> = qb.fetch_all(&mut *conn).await?;
    // (the event's product, the devices' product it covers (`None`: all), how many)
    let events: Vec<(String, Option<String>, i64)> = match change {
        Change::Move { to_product, .. } => {
            let total: i64 = by_product.iter().map(|(_, n)| n).sum();
            let target = to_product.id.as_str().to_owned();
            (total > 0)
                .then_some((target, None, total))
                .into_iter()
                .collect()
        }
        _ => by_product
            .into_iter()
            .map(|(product, n)| (product.clone(), Some(product), n))
            .collect(),
    };
    for (product, covers, devices) in events {
        let product_id = parse_id!(ProductId, product)?;
        let event = AuditEvent::new(
            stamp.org_id,
            stamp.actor,
            change.action(),
            change_details(change, devices),
        )
        .product(Some(&product_id))
        .record(&mut *conn)
        .await?;
        let mut qb = query(
            "INSERT INTO event_devices (device_id, event_id, identifier, from_product_id, \
             from_cohort_id) SELECT s.id, ",
        );
        qb.push_bind(event.as_str().to_owned());
        qb.push(format!(
            ", s.identifier, s.product_id, s.cohort_id FROM {table} s WHERE "
        ));
        change.push_predicate(&mut qb, conn.backend());
        if let Some(product) = covers {
            qb.push(" AND s.product_id = ").push_bind(product);
        }
        qb.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records an import into `product_id` that created `created` and updated `updated` devices:
/// a `device.created` and a `device.updated` event (each only if it happened), and each written
/// row's device and line. Call it after the devices are written.
pub async fn record_import(
    conn: &mut Conn,
    product_id: &ProductId,
    (created, updated): (u64, u64),
    update: bool,
    stamp: &Stamp<'_>,
) -> sqlx::Result<()> {
    let mut ids = [None, None];
    for (slot, (action, count)) in ids.iter_mut().zip([
        (AuditAction::DeviceCreated, created),
        (AuditAction::DeviceUpdated, updated),
    ]) {
        if count == 0 {
            continue;
        }
        let details = json!({ "devices": count, "via": "import" });
        let event = AuditEvent::new(stamp.org_id, stamp.actor, action, details)
            .product(Some(product_id))
            .record(&mut *conn)
            .await?;
        *slot = Some(event.as_str().to_owned());
    }
    let [created_event, updated_event] = ids;
    query(format!(
        "INSERT INTO event_devices (device_id, event_id, identifier, line) \
         SELECT COALESCE(i.existing_id, i.new_id), \
         CASE WHEN i.existing_id IS NULL THEN $1 ELSE $2 END, i.identifier, i.line \
         FROM {} i WHERE i.existing_id IS NULL OR (i.differs AND $3)",
        temp_table(conn.backend(), "bulk_import"),
    ))
    .bind(created_event)
    .bind(updated_event)
    .bind(update)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
