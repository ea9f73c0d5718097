//! Listing devices: one page and its `next_cursor`, or (`all=true`) every matching device as a
//! walk of keyset steps that the handler streams as they are read.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Validator;
use super::lookup::{filter_cohort_id, visible_product};
use crate::api::page::MAX_LIMIT;
use crate::api::{CohortId, DeviceId, DeviceListQuery, DeviceSort, OrgId, ProductId, validate};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::{PageRequest, SeenCursor, encode_cursor};
use crate::server::store::{
    self, Pool,
    devices::{ListFilter, ListOrder},
};

/// One page of devices as the JSON text of its items (the hot path: one joined query, no
/// per-device decoding), and the cursor of the next page.
pub struct DevicePage {
    pub items: String,
    pub next_cursor: Option<String>,
}

/// A device list's query, checked, with names resolved to IDs and the check-in bounds fixed,
/// owned so that a walk can carry it from step to step.
struct Plan {
    org_id: OrgId,
    scope: Option<Arc<[ProductId]>>,
    product_id: Option<ProductId>,
    cohort_id: Option<CohortId>,
    tags: Vec<String>,
    target: Option<String>,
    quarantined: Option<bool>,
    seen_since: Option<DateTime<Utc>>,
    not_seen_since: Option<DateTime<Utc>>,
    running: Option<(String, String)>,
    update_state: Option<String>,
    limit: u32,
}

/// Where in the list the next page or step starts.
enum Position {
    /// By ID: after this device.
    Id(Option<String>),
    /// By last check-in: after this (check-in, ID) position.
    Seen(Option<(Option<DateTime<Utc>>, String)>),
}

impl Plan {
    fn filter<'a>(&'a self, position: &'a Position) -> ListFilter<'a> {
        ListFilter {
            product_id: self.product_id.as_ref(),
            cohort_id: self.cohort_id.as_ref(),
            tags: &self.tags,
            target: self.target.as_deref(),
            quarantined: self.quarantined,
            seen_since: self.seen_since,
            not_seen_since: self.not_seen_since,
            running: self
                .running
                .as_ref()
                .map(|(artifact, version)| (artifact.as_str(), version.as_str())),
            update_state: self.update_state.as_deref(),
            order: match position {
                Position::Id(after) => ListOrder::Id {
                    after: after.as_deref(),
                },
                Position::Seen(after) => ListOrder::LastSeen {
                    after: after.as_ref().map(|(seen, id)| (*seen, id.as_str())),
                },
            },
            limit: self.limit,
        }
    }
}

/// Checks `query` (cursor, limit, tags, check-in filters) and resolves the product and cohort
/// it names (404 for a product the caller cannot see).
async fn plan(
    pool: &Pool,
    principal: &Principal,
    query: &DeviceListQuery,
    online_within: std::time::Duration,
) -> ApiResult<(Plan, Position)> {
    let sort = query.sort.unwrap_or_default();
    // By ID the cursor is a plain device ID; by last check-in it carries the check-in time.
    let (id_cursor, seen_cursor) = match sort {
        // A last-seen cursor (`SEEN.ID`) has a declared shape but belongs to the other order.
        DeviceSort::Id if query.cursor.as_deref().is_some_and(|c| c.contains('.')) => {
            return Err(ApiError::invalid_field(
                "cursor",
                "the cursor is not valid for this list in this order",
            )
            .with_hint(
                "pass back the `next_cursor` of the previous page unchanged, with the same `sort`",
            ));
        }
        DeviceSort::Id => (query.cursor.as_deref(), None),
        DeviceSort::LastSeen => (
            None,
            query
                .cursor
                .as_deref()
                .map(|c| SeenCursor::decode(c, DeviceId::parse))
                .transpose()?,
        ),
    };
    // A walk's steps are as large as a page may be: each step is a round trip, a statement
    // and a pooled connection, and at the default page size those cost more than the devices.
    let limit = match query.all {
        Some(true) => query.limit.or(Some(MAX_LIMIT)),
        _ => query.limit,
    };
    let page = PageRequest::new(limit, id_cursor, DeviceId::parse)?;
    let mut v = Validator::default();
    v.check("tag", validate::tags(&query.tag));
    if query
        .cohort
        .as_deref()
        .is_some_and(|c| CohortId::parse(c).is_none())
        && query.product.is_none()
    {
        v.check(
            "cohort",
            Err("a cohort name needs `product` too; or pass the cohort's ID".into()),
        );
    }
    let seen = super::device_updates::status::SeenFilter::of(query, online_within, &mut v);
    v.finish()?;

    let org = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = match &query.product {
        Some(reference) => Some(visible_product(&mut conn, principal, reference).await?),
        None => None,
    };
    let cohort_id = match &query.cohort {
        Some(reference) => {
            Some(filter_cohort_id(&mut conn, org, product.as_ref(), reference).await?)
        }
        None => None,
    };
    let position = match sort {
        DeviceSort::Id => Position::Id(page.after),
        DeviceSort::LastSeen => Position::Seen(seen_cursor.map(|c| (c.seen, c.id))),
    };
    let plan = Plan {
        org_id: org.clone(),
        scope: principal.scope.clone(),
        product_id: product.map(|p| p.id),
        cohort_id,
        tags: query.tag.clone(),
        target: query.target.clone(),
        quarantined: query.quarantined,
        seen_since: seen.seen_since,
        not_seen_since: seen.not_seen_since,
        running: seen
            .running
            .map(|(artifact, version)| (artifact.to_owned(), version.to_owned())),
        update_state: seen.update_state.map(str::to_owned),
        limit: page.limit,
    };
    Ok((plan, position))
}

/// Devices in creation order (or by last check-in, `sort=last_seen`), filtered by product,
/// cohort, tags (all must match), target, quarantine state and check-ins: one page.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    query: &DeviceListQuery,
    online_within: std::time::Duration,
) -> ApiResult<DevicePage> {
    let (plan, position) = plan(pool, principal, query, online_within).await?;
    let mut conn = pool.acquire().await?;
    let filter = plan.filter(&position);
    let json =
        store::devices::list_page_json(&mut conn, &plan.org_id, &filter, plan.scope.as_deref())
            .await?;
    let next_cursor = json
        .last_id
        .filter(|_| json.more)
        .map(|last| match position {
            Position::Id(_) => encode_cursor(&last),
            Position::Seen(_) => SeenCursor {
                seen: json.last_seen,
                id: last,
            }
            .encode(),
        });
    Ok(DevicePage {
        items: json.items,
        next_cursor,
    })
}

/// Every device of a list after its cursor, read in keyset steps of `limit` devices. Each step
/// takes a pooled connection for one statement and gives it back, so a slow reader holds no
/// connection and no snapshot; the list is as consistent as following `next_cursor` is.
pub struct DeviceWalk {
    pool: Pool,
    plan: Plan,
    position: Position,
    /// The first step, read before the answer starts so its errors get their own status.
    first: Option<String>,
    done: bool,
}

/// Starts the walk of `query`'s list and reads its first step (errors here are ordinary API
/// errors; later ones end the stream).
pub async fn walk(
    pool: &Pool,
    principal: &Principal,
    query: &DeviceListQuery,
    online_within: std::time::Duration,
) -> ApiResult<DeviceWalk> {
    let (plan, position) = plan(pool, principal, query, online_within).await?;
    let mut walk = DeviceWalk {
        pool: pool.clone(),
        plan,
        position,
        first: None,
        done: false,
    };
    walk.first = walk.step().await?;
    Ok(walk)
}

impl DeviceWalk {
    /// The next step's devices as a JSON array (never empty); `None` once the list is done.
    pub async fn next_items(&mut self) -> ApiResult<Option<String>> {
        match self.first.take() {
            Some(first) => Ok(Some(first)),
            None => self.step().await,
        }
    }

    async fn step(&mut self) -> ApiResult<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        let filter = self.plan.filter(&self.position);
        let step = store::devices::list_items_json(
            &mut conn,
            &self.plan.org_id,
            &filter,
            self.plan.scope.as_deref(),
        )
        .await?;
        drop(conn);
        self.done = step.count < self.plan.limit;
        let Some(last_id) = step.last_id else {
            self.done = true;
            return Ok(None);
        };
        self.position = match self.position {
            Position::Id(_) => Position::Id(Some(last_id)),
            Position::Seen(_) => Position::Seen(Some((step.last_seen, last_id))),
        };
        Ok(Some(step.items))
    }
}
