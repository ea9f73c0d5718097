//! `POST /v1/bulk/assign` and `/v1/bulk/unassign`: put devices into a cohort of their product,
//! or take them out of theirs (see `domain::bulk::cohorts`).

use axum::Json;
use axum::extract::State;

use crate::api::{AssignCohort, BulkResult, UnassignCohort};
use crate::server::auth::Principal;
use crate::server::domain::bulk;
use crate::server::error::ApiResult;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

/// Assign the selected devices to a cohort, all or none. Every selected device must be in the
/// cohort's product (409 lists those that are not); a filter selection without `product` is
/// limited to it.
#[utoipa::path(post, path = "/v1/bulk/assign", operation_id = "assignCohort", tag = "bulk", request_body = AssignCohort,
    responses((status = 200, body = BulkResult)))]
pub async fn assign(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<AssignCohort>,
) -> ApiResult<Json<BulkResult>> {
    let fail_after_rows = state.bulk.fail_after_rows;
    let caches = &state.device_updates.configs;
    let result =
        bulk::cohorts::assign(&state.pool, caches, &principal, &body, fail_after_rows).await?;
    Ok(Json(result))
}

/// Take the selected devices out of their cohorts, all or none.
#[utoipa::path(post, path = "/v1/bulk/unassign", operation_id = "unassignCohort", tag = "bulk", request_body = UnassignCohort,
    responses((status = 200, body = BulkResult)))]
pub async fn unassign(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<UnassignCohort>,
) -> ApiResult<Json<BulkResult>> {
    let fail_after_rows = state.bulk.fail_after_rows;
    let caches = &state.device_updates.configs;
    let result =
        bulk::cohorts::unassign(&state.pool, caches, &principal, &body, fail_after_rows).await?;
    Ok(Json(result))
}
