//! `GET /v1/events`: the audit log, read-only (events are appended by the writes themselves).

use axum::Json;
use axum::extract::State;

use super::unknown_product;
use crate::api::{ApiKeyId, Event, EventId, EventListQuery, Page, ProductId};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::extract::ApiQuery;
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::{self, event_log::KeyFilter};

/// List events oldest first, filtered by product, resource, key, action and time. A
/// product-scoped key sees only its products' events.
#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents", tag = "access", params(EventListQuery),
    responses((status = 200, body = Page<Event>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventListQuery>,
) -> ApiResult<Json<Page<Event>>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), EventId::parse)?;
    let mut conn = state.pool.acquire().await?;
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
    let rows = store::event_log::list(&mut conn, org, &filter).await?;
    Ok(Json(page.finish(rows, |e| e.id.as_str())))
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![route!(list, Access::read())]
}
