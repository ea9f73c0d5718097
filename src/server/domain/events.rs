//! Reading the audit log: filters by product, resource, key, action and time; a
//! product-scoped key sees only its products' events.

use super::lookup::unknown_product;
use crate::api::{ApiKeyId, Event, EventId, EventListQuery, Page, ProductId};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Pool, event_log::KeyFilter};

/// One page of events, oldest first.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    query: &EventListQuery,
) -> ApiResult<Page<Event>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), EventId::parse)?;
    let mut conn = pool.acquire().await?;
    let org = &principal.org_id;
    let product = match query.product.as_deref() {
        Some(reference) => {
            let found = store::api_keys::product_id_of(&mut conn, org, reference).await?;
            // A deleted product's events stay listable by its ID.
            let id = found
                .or_else(|| ProductId::parse(reference))
                .filter(|id| principal.sees(id))
                .ok_or_else(|| unknown_product(reference))?;
            Some(id)
        }
        None => None,
    };
    let key = query.key.as_deref().map(|k| {
        if ApiKeyId::parse(k).is_some() {
            KeyFilter::Id(k)
        } else {
            KeyFilter::Name(k)
        }
    });
    let (action, action_is_prefix) = match query.action.as_deref() {
        Some(a) => match a.strip_suffix('*') {
            Some(prefix) => (Some(prefix), true),
            None => (Some(a), false),
        },
        None => (None, false),
    };
    let filter = store::event_log::ListFilter {
        product_id: product.as_ref().map(ProductId::as_str),
        within: principal.scope(),
        resource_id: query.resource.as_deref(),
        key,
        action,
        action_is_prefix,
        since: query.since,
        until: query.until,
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let mut rows = store::event_log::list(&mut conn, org, &filter).await?;
    for event in &mut rows {
        hide_origin(principal, event);
    }
    Ok(page.finish(rows, |e| e.id.as_str()))
}

/// A device moved into the caller's scope from a product outside it: the event is the
/// caller's, where the device came from is not (its product and cohort become `null`).
fn hide_origin(principal: &Principal, event: &mut Event) {
    let Some(details) = event.details.as_object_mut() else {
        return;
    };
    let hidden = details
        .get("from_product_id")
        .and_then(|id| id.as_str())
        .and_then(ProductId::parse)
        .is_some_and(|id| !principal.sees(&id));
    if hidden {
        for field in ["from_product_id", "from_product", "from_cohort_id"] {
            details.insert(field.to_owned(), serde_json::Value::Null);
        }
    }
}
