//! Reading the audit log: keyset listing with filters. (Appending is `events::record`.) A
//! device's history (a resource filter) also reads the bulk operations that name the device in
//! `event_devices`, shown as events on the device with its own facts in their details.

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query};
use crate::api::{AuditAction, Event, EventId, EventResult, OrgId, ProductId};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    occurred_at: DateTime<Utc>,
    key_id: Option<String>,
    key_name: Option<String>,
    action: String,
    resource_id: Option<String>,
    product_id: Option<String>,
    result: String,
    details: String,
    /// From `event_devices`, for a bulk event read as one device's: the device's facts.
    device_identifier: Option<String>,
    from_product_id: Option<String>,
    from_product: Option<String>,
    from_cohort_id: Option<String>,
    line: Option<i64>,
}

impl Row {
    fn into_api(self) -> sqlx::Result<Event> {
        let result = match self.result.as_str() {
            "ok" => EventResult::Ok,
            "denied" => EventResult::Denied,
            "failed" => EventResult::Failed,
            other => {
                return Err(sqlx::Error::Decode(
                    format!("event result `{other}`").into(),
                ));
            }
        };
        let mut details = serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null);
        if let (Some(identifier), Some(details)) = (self.device_identifier, details.as_object_mut())
        {
            use serde_json::Value;
            details.insert("identifier".into(), Value::from(identifier));
            if self.action == AuditAction::DeviceMoved.as_str() {
                details.insert("from_product_id".into(), Value::from(self.from_product_id));
                details.insert("from_product".into(), Value::from(self.from_product));
            }
            if self.line.is_none() {
                details.insert("from_cohort_id".into(), Value::from(self.from_cohort_id));
            } else {
                details.insert("line".into(), Value::from(self.line));
            }
        }
        Ok(Event {
            id: parse_id!(EventId, self.id)?,
            occurred_at: self.occurred_at,
            key_id: self.key_id,
            key_name: self.key_name,
            action: self.action,
            resource_id: self.resource_id,
            product_id: self.product_id,
            result,
            details,
        })
    }
}

/// Which key an event list is limited to.
pub enum KeyFilter<'a> {
    Id(&'a str),
    Name(&'a str),
}

#[derive(Default)]
pub struct ListFilter<'a> {
    pub product_id: Option<&'a str>,
    /// A scoped reader sees only events of these products.
    pub within: Option<&'a [ProductId]>,
    pub resource_id: Option<&'a str>,
    pub key: Option<KeyFilter<'a>>,
    /// Exact action, or with `prefix`, every action starting with it.
    pub action: Option<&'a str>,
    pub action_is_prefix: bool,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// An event's columns, and none of a device's facts.
const OWN_COLUMNS: &str = "id, org_id, occurred_at, key_id, key_name, action, resource_id, \
     product_id, result, details, CAST(NULL AS TEXT) AS device_identifier, \
     CAST(NULL AS TEXT) AS from_product_id, CAST(NULL AS TEXT) AS from_product, \
     CAST(NULL AS TEXT) AS from_cohort_id, CAST(NULL AS BIGINT) AS line";

/// A bulk event `e` as the event of the device `ed` names: on it, with its facts.
const BULK_COLUMNS: &str = "e.id, e.org_id, e.occurred_at, e.key_id, e.key_name, e.action, \
     ed.device_id, e.product_id, e.result, e.details, ed.identifier, ed.from_product_id, \
     fp.name, ed.from_cohort_id, ed.line";

pub async fn list(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<Event>> {
    let mut qb = query(
        "SELECT id, occurred_at, key_id, key_name, action, resource_id, product_id, result, \
         details, device_identifier, from_product_id, from_product, from_cohort_id, line FROM ",
    );
    match filter.resource_id {
        // The resource's own events, and the bulk events naming it (with its facts).
        Some(resource) => {
            qb.push(format!(
                "(SELECT {OWN_COLUMNS} FROM events WHERE resource_id = "
            ))
            .push_bind(resource.to_owned())
            .push(format!(
                " UNION ALL SELECT {BULK_COLUMNS} FROM event_devices ed \
                     JOIN events e ON e.id = ed.event_id \
                     LEFT JOIN products fp ON fp.id = ed.from_product_id WHERE ed.device_id = "
            ))
            .push_bind(resource.to_owned())
            .push(") ev");
        }
        None => {
            qb.push(format!("(SELECT {OWN_COLUMNS} FROM events) ev"));
        }
    }
    qb.push(" WHERE org_id = ");
    qb.push_bind(org_id.as_str().to_owned());
    if let Some(product) = filter.product_id {
        qb.push(" AND product_id = ").push_bind(product.to_owned());
    }
    if let Some(within) = filter.within {
        qb.push(" AND product_id IN (");
        // An empty scope matches nothing: `IN ('')`.
        qb.push_list(
            std::iter::once(String::new()).chain(within.iter().map(|id| id.as_str().to_owned())),
        );
        qb.push(")");
    }
    match filter.key {
        Some(KeyFilter::Id(id)) => {
            qb.push(" AND key_id = ").push_bind(id.to_owned());
        }
        Some(KeyFilter::Name(name)) => {
            qb.push(" AND key_name = ").push_bind(name.to_owned());
        }
        None => {}
    }
    match (filter.action, filter.action_is_prefix) {
        // substr rather than LIKE: actions contain `_`, a LIKE wildcard. The length is cast
        // because PostgreSQL's substr takes an `integer`, and binds are `bigint`.
        (Some(prefix), true) => {
            qb.push(" AND substr(action, 1, CAST(")
                .push_bind(i64::try_from(prefix.len()).unwrap_or(i64::MAX))
                .push(" AS INTEGER)) = ")
                .push_bind(prefix.to_owned());
        }
        (Some(action), false) => {
            qb.push(" AND action = ").push_bind(action.to_owned());
        }
        (None, _) => {}
    }
    if let Some(since) = filter.since {
        qb.push(" AND occurred_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        qb.push(" AND occurred_at < ").push_bind(until);
    }
    if let Some(after) = filter.after {
        qb.push(" AND id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}
