//! `GET /v1/events`: the audit log, read-only (events are appended by the writes themselves).

use axum::Json;
use axum::extract::State;

use crate::api::{ErrorBody, Event, EventListQuery, Page};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::ApiResult;
use crate::server::extract::ApiQuery;
use crate::server::state::AppState;

/// List events oldest first, filtered by product, resource, key, action and time. A
/// product-scoped key sees only its products' events.
#[utoipa::path(get, path = "/v1/events", tag = "access", params(EventListQuery),
    responses((status = 200, body = Page<Event>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventListQuery>,
) -> ApiResult<Json<Page<Event>>> {
    Ok(Json(
        domain::events::list(&state.pool, &principal, &query).await?,
    ))
}
