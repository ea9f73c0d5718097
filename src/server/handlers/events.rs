//! `GET /v1/events`: the audit log, read-only (events are appended by the writes themselves).

use axum::Json;
use axum::extract::State;

use crate::api::{Event, EventListQuery, Page};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::ApiResult;
use crate::server::extract::ApiQuery;
use crate::server::state::AppState;

/// List events oldest first, filtered by product, resource, key, action and time. A
/// product-scoped key sees only its products' events.
#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents", tag = "access", params(EventListQuery),
    responses((status = 200, body = Page<Event>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventListQuery>,
) -> ApiResult<Json<Page<Event>>> {
    Ok(Json(
        domain::events::list(&state.pool, &principal, &query).await?,
    ))
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![route!(list, Access::read())]
}
