//! Devices (`devices` and `device_details`, read whole through `device_records`): one joined
//! query per read or page (product and cohort names included), so a page of any size costs one
//! statement.

use chrono::{DateTime, Utc};

use super::device_json;
use super::dialect::{self, Json};
use super::{Backend, Conn, Query, parse_id, push_tag_filter, query, tags_from_text, tags_to_text};
use crate::api::{CohortId, Device, DeviceId, OrgId, ProductId};

const SELECT: &str = "SELECT d.id, d.identifier, d.product_id, p.name AS product, d.cohort_id, \
     c.name AS cohort, d.description, d.tags, d.target, d.quarantined, d.needs_provisioning, \
     d.created_at, d.updated_at, d.revision \
     FROM device_records d JOIN products p ON p.id = d.product_id \
     LEFT JOIN cohorts c ON c.id = d.cohort_id";

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

/// Looks a device up by ID when `reference` is ID-shaped, else by identifier.
pub async fn resolve(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<Device>> {
    let by = if DeviceId::parse(reference).is_some() {
        "id"
    } else {
        "identifier"
    };
    let sql = format!("{SELECT} WHERE d.org_id = $1 AND d.{by} = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn identifier_taken(
    conn: &mut Conn,
    org_id: &OrgId,
    identifier: &str,
) -> sqlx::Result<bool> {
    let row: Option<(String,)> =
        query("SELECT device_id FROM device_details WHERE org_id = $1 AND identifier = $2")
            .bind(org_id.as_str())
            .bind(identifier)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some())
}

pub async fn count_in_product(conn: &mut Conn, product_id: &ProductId) -> sqlx::Result<u64> {
    let (count,): (i64,) = query("SELECT COUNT(*) FROM devices WHERE product_id = $1")
        .bind(product_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

#[derive(Default)]
pub struct ListFilter<'a> {
    pub product_id: Option<&'a ProductId>,
    pub cohort_id: Option<&'a CohortId>,
    pub tags: &'a [String],
    pub target: Option<&'a str>,
    pub quarantined: Option<bool>,
    /// Only devices whose last check-in is at or after this time.
    pub seen_since: Option<DateTime<Utc>>,
    /// Only devices without a check-in at or after this time (never seen included).
    pub not_seen_since: Option<DateTime<Utc>>,
    /// Only devices running this (artifact, version).
    pub running: Option<(&'a str, &'a str)>,
    /// Only devices whose latest update state is this.
    pub update_state: Option<&'a str>,
    /// The order, and the keyset position after which the page starts.
    pub order: ListOrder<'a>,
    pub limit: u32,
}

/// The order of a device list and where in it a page starts.
#[derive(Debug, Clone, Copy)]
pub enum ListOrder<'a> {
    /// By ID; only devices with a larger ID than this one.
    Id { after: Option<&'a str> },
    /// By last check-in, newest first, then by ID; devices never seen last. Only devices after
    /// this (last check-in, ID) position.
    LastSeen {
        after: Option<(Option<DateTime<Utc>>, &'a str)>,
    },
}

impl Default for ListOrder<'_> {
    fn default() -> Self {
        ListOrder::Id { after: None }
    }
}

/// One page of devices, already rendered as the JSON array the API returns.
pub struct JsonPage {
    /// A JSON array of `api::Device` objects, in the list's order.
    pub items: String,
    /// The last ID on the page, when the page is not empty.
    pub last_id: Option<String>,
    /// In last-seen order: the last device's last check-in (`None`: never seen).
    pub last_seen: Option<DateTime<Utc>>,
    /// Whether more devices match after the last one.
    pub more: bool,
}

/// One step of a device list: up to `filter.limit` devices as a JSON array, and where the step
/// ended (the position the next step starts after).
pub struct JsonItems {
    /// A JSON array of `api::Device` objects, in the list's order.
    pub items: String,
    /// How many devices the array holds.
    pub count: u32,
    /// The last ID in the array, when it is not empty.
    pub last_id: Option<String>,
    /// In last-seen order: the last device's last check-in (`None`: never seen).
    pub last_seen: Option<DateTime<Utc>>,
}

/// The device object exactly as `api::Device` serializes (SQLite's page building): same keys,
/// same order, timestamps in serde's RFC 3339 form, from `devices d` and `device_details i`.
/// The list test `api_devices::list_items_equal_the_single_device_json` keeps the two in step.
fn device_json(backend: Backend) -> String {
    dialect::json_object(
        backend,
        &[
            ("id", Json::Text("d.id")),
            ("identifier", Json::Text("i.identifier")),
            ("product_id", Json::Text("d.product_id")),
            ("product", Json::Text("p.name")),
            ("cohort_id", Json::Text("d.cohort_id")),
            ("cohort", Json::Text("c.name")),
            ("description", Json::Text("i.description")),
            ("tags", Json::Raw("i.tags")),
            ("target", Json::Text("i.target")),
            ("quarantined", Json::Bool("d.quarantined")),
            ("needs_provisioning", Json::Bool("d.needs_provisioning")),
            ("created_at", Json::Time("i.created_at")),
            ("updated_at", Json::Time("d.updated_at")),
            ("revision", Json::Int("d.revision")),
        ],
    )
}

/// Appends the list filters (and a scoped key's product limit) as `AND …` clauses on `d` and `i`.
fn push_list_filter(
    qb: &mut Query<'_>,
    backend: Backend,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) {
    super::api_keys::push_scope(qb, "d.product_id", within);
    if let Some(product_id) = filter.product_id {
        qb.push(" AND d.product_id = ")
            .push_bind(product_id.as_str().to_owned());
    }
    if let Some(cohort_id) = filter.cohort_id {
        qb.push(" AND d.cohort_id = ")
            .push_bind(cohort_id.as_str().to_owned());
    }
    push_tag_filter(qb, backend, "i.tags", filter.tags);
    if let Some(target) = filter.target {
        qb.push(" AND i.target = ").push_bind(target.to_owned());
    }
    if let Some(quarantined) = filter.quarantined {
        qb.push(" AND d.quarantined = ").push_bind(quarantined);
    }
    // The check-in filters probe one row by primary key (or `device_running`'s) per device.
    if let Some(since) = filter.seen_since {
        qb.push(
            " AND EXISTS (SELECT 1 FROM device_status s WHERE s.device_id = d.id \
             AND s.last_seen_at >= ",
        )
        .push_bind(since)
        .push(")");
    }
    if let Some(since) = filter.not_seen_since {
        qb.push(
            " AND NOT EXISTS (SELECT 1 FROM device_status s WHERE s.device_id = d.id \
             AND s.last_seen_at >= ",
        )
        .push_bind(since)
        .push(")");
    }
    if let Some((artifact, version)) = filter.running {
        qb.push(" AND EXISTS (SELECT 1 FROM device_running r WHERE r.device_id = d.id AND r.artifact = ")
            .push_bind(artifact.to_owned())
            .push(" AND r.version = ")
            .push_bind(version.to_owned())
            .push(")");
    }
    if let Some(state) = filter.update_state {
        qb.push(
            " AND EXISTS (SELECT 1 FROM device_updates u WHERE u.device_id = d.id AND u.state = ",
        )
        .push_bind(state.to_owned())
        .push(")");
    }
}

/// The order clause of [`ListOrder::LastSeen`]: `s` is the device's `device_status` row.
const LAST_SEEN_ORDER: &str = "(s.last_seen_at IS NULL), s.last_seen_at DESC, d.id";

/// Appends `AND …` keeping only the devices after `order`'s position.
fn push_after(qb: &mut Query<'_>, order: ListOrder<'_>) {
    match order {
        ListOrder::Id { after: None } | ListOrder::LastSeen { after: None } => {}
        // Bounded on both tables' keys, a page is a merge of two key range scans; bounded on
        // `devices` alone, PostgreSQL hashed all of `device_details` for every page.
        ListOrder::Id { after: Some(id) } => {
            qb.push(" AND d.id > ").push_bind(id.to_owned());
            qb.push(" AND i.device_id > ").push_bind(id.to_owned());
        }
        // Never-seen devices come last, by ID.
        ListOrder::LastSeen {
            after: Some((None, id)),
        } => {
            qb.push(" AND s.last_seen_at IS NULL AND d.id > ")
                .push_bind(id.to_owned());
        }
        ListOrder::LastSeen {
            after: Some((Some(seen), id)),
        } => {
            qb.push(" AND (s.last_seen_at IS NULL OR s.last_seen_at < ")
                .push_bind(seen)
                .push(" OR (s.last_seen_at = ")
                .push_bind(seen)
                .push(" AND d.id > ")
                .push_bind(id.to_owned())
                .push("))");
        }
    }
}

/// The `FROM … WHERE i.org_id = ` of a list in `filter`'s order (the org ID's bind follows).
/// `devices` leads the join on SQLite: without statistics its planner walked
/// `device_details_org` instead and sorted everything after the cursor for each page, so a
/// whole list took quadratic time (bench/RESULTS.md).
fn list_from(backend: Backend, filter: &ListFilter<'_>) -> String {
    let status = if matches!(filter.order, ListOrder::LastSeen { .. }) {
        "LEFT JOIN device_status s ON s.device_id = d.id "
    } else {
        ""
    };
    format!(
        "FROM devices d {} device_details i ON i.device_id = d.id \
         JOIN products p ON p.id = d.product_id \
         LEFT JOIN cohorts c ON c.id = d.cohort_id {status}WHERE i.org_id = ",
        dialect::join_in_order(backend)
    )
}

/// Appends the filters, the position, the order and the limit of one list step.
fn push_step(
    qb: &mut Query<'_>,
    backend: Backend,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) {
    qb.push_bind(org_id.as_str().to_owned());
    push_list_filter(qb, backend, filter, within);
    push_after(qb, filter.order);
    let order = match filter.order {
        ListOrder::LastSeen { .. } => LAST_SEEN_ORDER,
        ListOrder::Id { .. } => "d.id",
    };
    qb.push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(i64::from(filter.limit));
}

/// One step of a device list (`filter.limit` devices at most, after `filter.order`'s
/// position), limited to the products a scoped API key sees (`within`; `None`: every product),
/// as the JSON array the API returns.
///
/// This is the service's hottest read. On SQLite the array is built inside SQLite and crosses
/// from its worker thread as one row: sqlx hands rows over one at a time between threads, and
/// that hand-off cost more than the query and the JSON together. On PostgreSQL rows arrive on
/// the socket in one batch, and writing the JSON here from typed rows costs less than building
/// the text in SQL by concatenation.
pub async fn list_items_json(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<JsonItems> {
    match conn.backend() {
        Backend::Sqlite => items_built_in_sql(conn, org_id, filter, within).await,
        Backend::Postgres => items_from_rows(conn, org_id, filter, within).await,
    }
}

async fn items_built_in_sql(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<JsonItems> {
    let backend = conn.backend();
    let from = list_from(backend, filter);
    let by_seen = matches!(filter.order, ListOrder::LastSeen { .. });
    let mut qb = if by_seen {
        // The page's rows are numbered in the list's order so the outer query can render them
        // in it and name the last one (its check-in time and ID make the next cursor).
        query(format!(
            "SELECT {}, count(*), max(CASE WHEN n = total THEN id END), \
             max(CASE WHEN n = total THEN seen END) FROM (\
             SELECT id, item, seen, row_number() OVER (ORDER BY (seen IS NULL), seen DESC, id) \
             AS n, count(*) OVER () AS total FROM (\
             SELECT d.id AS id, {} AS item, s.last_seen_at AS seen {from}",
            dialect::json_array_agg(backend, "item", "n"),
            device_json(backend),
        ))
    } else {
        // The texts are joined in the order the subquery hands them up (`ORDER BY d.id` under
        // its LIMIT), without the aggregate's own `ORDER BY id`: that sorted each step's
        // objects, 460 bytes apiece, a second time, a quarter of the step's time. SQLite
        // documents the aggregate's order as arbitrary without it, but it does not flatten a
        // LIMIT subquery into an aggregate and reads it as it is produced;
        // `tests::steps_keep_id_order_when_rows_were_written_in_another` fails if that changes.
        query(format!(
            "SELECT COALESCE('[' || group_concat(item, ',') || ']', '[]'), count(*), max(id) \
             FROM (SELECT d.id AS id, {} AS item {from}",
            device_json(backend),
        ))
    };
    push_step(&mut qb, backend, org_id, filter, within);
    qb.push(if by_seen {
        ") numbered) page"
    } else {
        ") page"
    });
    let (items, count, last_id, last_seen) = if by_seen {
        qb.fetch_one::<(String, i64, Option<String>, Option<DateTime<Utc>>)>(&mut *conn)
            .await?
    } else {
        let (items, count, last_id) = qb
            .fetch_one::<(String, i64, Option<String>)>(&mut *conn)
            .await?;
        (items, count, last_id, None)
    };
    Ok(JsonItems {
        items,
        count: u32::try_from(count).unwrap_or(u32::MAX),
        last_id,
        last_seen,
    })
}

async fn items_from_rows(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<JsonItems> {
    let backend = conn.backend();
    let seen = match filter.order {
        ListOrder::LastSeen { .. } => "s.last_seen_at",
        ListOrder::Id { .. } => "CAST(NULL AS TIMESTAMPTZ)",
    };
    // The columns in the order `device_json::write` reads them.
    let mut qb = query(format!(
        "SELECT d.id, i.identifier, d.product_id, p.name, d.cohort_id, c.name, i.description, \
         i.tags, i.target, d.quarantined, d.needs_provisioning, i.created_at, d.updated_at, \
         d.revision, {seen} {}",
        list_from(backend, filter)
    ));
    push_step(&mut qb, backend, org_id, filter, within);
    let limit = usize::try_from(filter.limit).unwrap_or(0);
    // About 420 bytes a device with a cohort and two tags.
    let mut json = Vec::with_capacity(2 + limit.min(1000) * 448);
    json.push(b'[');
    let mut count: u32 = 0;
    // Where the last device's ID sits in `json`, and its check-in.
    let mut last = None;
    qb.for_each_postgres_row(conn, |row| {
        use sqlx::Row as _;

        if count > 0 {
            json.push(b',');
        }
        count += 1;
        let id = device_json::write(&mut json, row)?;
        last = Some((id, row.try_get::<Option<DateTime<Utc>>, _>(14)?));
        Ok(())
    })
    .await?;
    json.push(b']');
    let items = String::from_utf8(json).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
    let (last_id, last_seen) = match last {
        Some((id, seen)) => (items.get(id).map(str::to_owned), seen),
        None => (None, None),
    };
    Ok(JsonItems {
        items,
        count,
        last_id,
        last_seen,
    })
}

/// One page (`filter.limit` devices at most) and whether another follows: a step of the list
/// plus, when the step is full, an index probe for one more device.
pub async fn list_page_json(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<JsonPage> {
    let backend = conn.backend();
    let by_seen = matches!(filter.order, ListOrder::LastSeen { .. });
    let step = list_items_json(conn, org_id, filter, within).await?;
    let more = match &step.last_id {
        Some(last) if step.count >= filter.limit => {
            let join = if by_seen {
                " LEFT JOIN device_status s ON s.device_id = d.id"
            } else {
                ""
            };
            let mut qb = query(format!(
                "SELECT EXISTS (SELECT 1 FROM devices d {} device_details i \
                 ON i.device_id = d.id{join} WHERE i.org_id = ",
                dialect::join_in_order(backend)
            ));
            qb.push_bind(org_id.as_str().to_owned());
            push_list_filter(&mut qb, backend, filter, within);
            let after = match filter.order {
                ListOrder::Id { .. } => ListOrder::Id {
                    after: Some(last.as_str()),
                },
                ListOrder::LastSeen { .. } => ListOrder::LastSeen {
                    after: Some((step.last_seen, last.as_str())),
                },
            };
            push_after(&mut qb, after);
            qb.push(")");
            let (exists,): (bool,) = qb.fetch_one(&mut *conn).await?;
            exists
        }
        _ => false,
    };
    Ok(JsonPage {
        items: step.items,
        last_id: step.last_id,
        last_seen: step.last_seen,
        more,
    })
}

/// The columns a create or update writes.
pub struct Fields<'a> {
    pub product_id: &'a ProductId,
    pub cohort_id: Option<&'a CohortId>,
    pub description: &'a str,
    pub tags: &'a [String],
    pub target: Option<&'a str>,
    pub quarantined: bool,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &DeviceId,
    identifier: &str,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, \
         revision) VALUES ($1, $2, $3, $4, $5, $6, 1)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(fields.product_id.as_str())
    .bind(fields.cohort_id.map(CohortId::as_str))
    .bind(fields.quarantined)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    query(
        "INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(identifier)
    .bind(fields.description)
    .bind(tags_to_text(fields.tags))
    .bind(fields.target)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes every mutable column and bumps the revision.
pub async fn update(
    conn: &mut Conn,
    id: &DeviceId,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE devices SET product_id = $1, cohort_id = $2, quarantined = $3, updated_at = $4, \
         revision = revision + 1 WHERE id = $5",
    )
    .bind(fields.product_id.as_str())
    .bind(fields.cohort_id.map(CohortId::as_str))
    .bind(fields.quarantined)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    query(
        "UPDATE device_details SET description = $1, tags = $2, target = $3 WHERE device_id = $4",
    )
    .bind(fields.description)
    .bind(tags_to_text(fields.tags))
    .bind(fields.target)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, id: &DeviceId) -> sqlx::Result<()> {
    query("DELETE FROM devices WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inserts `count` devices `<prefix>-000000`… into one product in a single transaction: test and
/// benchmark seeding, far faster than one API call per device.
pub async fn seed(
    conn: &mut Conn,
    org_id: &OrgId,
    product_id: &ProductId,
    prefix: &str,
    count: usize,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let fields = Fields {
        product_id,
        cohort_id: None,
        description: "",
        tags: &[],
        target: None,
        quarantined: false,
    };
    for n in 0..count {
        let identifier = format!("{prefix}-{n:06}");
        insert(
            conn,
            org_id,
            &DeviceId::generate(),
            &identifier,
            &fields,
            now,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::test_pools::{self, execute};
    use crate::server::store::{begin_write, now};

    fn id<T>(parse: fn(&str) -> Option<T>, prefix: &str, n: u32) -> T {
        parse(&format!("{prefix}_{n:032x}")).expect("an ID shape")
    }

    /// No page of a list sorts: a page that sorts reads every device after its cursor, and a
    /// whole list becomes quadratic. SQLite without statistics (a database never analysed)
    /// walked `device_details_org` and sorted, until `devices` led the join.
    #[tokio::test]
    async fn a_list_page_reads_in_key_order_without_sorting() {
        for (_guard, pool) in test_pools::all().await {
            let mut conn = pool.acquire().await.expect("acquire");
            if conn.backend() != Backend::Sqlite {
                continue;
            }
            let org: OrgId = id(OrgId::parse, OrgId::PREFIX, 1);
            let product: ProductId = id(ProductId::parse, ProductId::PREFIX, 1);
            for filter in [
                ListFilter {
                    order: ListOrder::Id {
                        after: Some("dev_0"),
                    },
                    limit: 1000,
                    ..ListFilter::default()
                },
                ListFilter {
                    product_id: Some(&product),
                    order: ListOrder::Id {
                        after: Some("dev_0"),
                    },
                    limit: 1000,
                    ..ListFilter::default()
                },
            ] {
                let mut qb = query(format!(
                    "EXPLAIN QUERY PLAN SELECT d.id {}",
                    list_from(Backend::Sqlite, &filter)
                ));
                push_step(&mut qb, Backend::Sqlite, &org, &filter, None);
                let plan: Vec<(i64, i64, i64, String)> =
                    qb.fetch_all(&mut conn).await.expect("plan");
                let steps: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
                assert!(
                    !steps.iter().any(|step| step.contains("TEMP B-TREE")),
                    "a list page sorts: {steps:?}"
                );
            }
        }
    }

    /// A list step's objects come in ID order even when the table holds its rows in another:
    /// here every device is written before the ones with smaller IDs, so reading in row order
    /// (or in any order but the index's) would show.
    #[tokio::test]
    async fn steps_keep_id_order_when_rows_were_written_in_another() {
        for (_guard, pool) in test_pools::all().await {
            let org: OrgId = id(OrgId::parse, OrgId::PREFIX, 1);
            let product: ProductId = id(ProductId::parse, ProductId::PREFIX, 1);
            let at = now().to_rfc3339();
            execute(
                &pool,
                &format!(
                    "INSERT INTO organizations (id, name, created_at) VALUES ('{org}', 'o', '{at}')"
                ),
            )
            .await;
            execute(
                &pool,
                &format!(
                    "INSERT INTO products (id, org_id, name, created_at, updated_at) \
                     VALUES ('{product}', '{org}', 'p', '{at}', '{at}')"
                ),
            )
            .await;
            let fields = Fields {
                product_id: &product,
                cohort_id: None,
                description: "",
                tags: &[],
                target: None,
                quarantined: false,
            };
            let mut tx = begin_write(&pool).await.expect("begin");
            for n in (1..=23).rev() {
                let device: DeviceId = id(DeviceId::parse, DeviceId::PREFIX, n);
                insert(&mut tx, &org, &device, &format!("sn-{n}"), &fields, now())
                    .await
                    .expect("insert");
            }
            tx.commit().await.expect("commit");

            let mut conn = pool.acquire().await.expect("acquire");
            let mut listed = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let filter = ListFilter {
                    order: ListOrder::Id {
                        after: after.as_deref(),
                    },
                    limit: 5,
                    ..ListFilter::default()
                };
                let step = list_items_json(&mut conn, &org, &filter, None)
                    .await
                    .expect("a step");
                let devices: Vec<Device> = serde_json::from_str(&step.items).expect("JSON");
                assert_eq!(devices.len(), step.count as usize);
                listed.extend(devices.into_iter().map(|d| d.id.as_str().to_owned()));
                if step.count < 5 {
                    break;
                }
                after = step.last_id;
            }
            let expected: Vec<String> = (1..=23)
                .map(|n| id(DeviceId::parse, DeviceId::PREFIX, n).as_str().to_owned())
                .collect();
            assert_eq!(listed, expected);
        }
    }
}
