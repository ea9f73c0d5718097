//! Reading the audit log: keyset listing with filters. (Appending is `events::record`.)

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query};
use crate::api::{Event, EventId, EventResult, OrgId, ProductId};

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
        Ok(Event {
            id: parse_id!(EventId, self.id)?,
            occurred_at: self.occurred_at,
            key_id: self.key_id,
            key_name: self.key_name,
            action: self.action,
            resource_id: self.resource_id,
            product_id: self.product_id,
            result,
            details: serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
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

pub async fn list(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<Event>> {
    let mut qb = query(
        "SELECT id, occurred_at, key_id, key_name, action, resource_id, product_id, result, \
         details FROM events WHERE org_id = ",
    );
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
    if let Some(resource) = filter.resource_id {
        qb.push(" AND resource_id = ")
            .push_bind(resource.to_owned());
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
