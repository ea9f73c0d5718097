//! `/v1/products/{product}/cohorts` and the org-wide `/v1/cohorts` list.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::resource;
use crate::api::{Cohort, CohortListQuery, CreateCohort, Page, UpdateCohort};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::state::AppState;

/// List cohorts across all products, or of one with `product=`.
#[utoipa::path(get, path = "/v1/cohorts", operation_id = "listAllCohorts", tag = "cohorts", params(CohortListQuery),
    responses((status = 200, body = Page<Cohort>)))]
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CohortListQuery>,
) -> ApiResult<Json<Page<Cohort>>> {
    let page = domain::cohorts::list(
        &state.pool,
        &principal,
        query.product.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}

/// List the cohorts of one product.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts", operation_id = "listCohorts", tag = "cohorts",
    params(("product" = String, Path, description = "Product name or ID"), crate::api::firmware::PageQuery),
    responses((status = 200, body = Page<Cohort>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<CohortListQuery>,
) -> ApiResult<Json<Page<Cohort>>> {
    if query.product.is_some() {
        return Err(ApiError::bad_request(
            "`product` is already given in the path; drop the query parameter",
        ));
    }
    let page = domain::cohorts::list(
        &state.pool,
        &principal,
        Some(&product),
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}

/// Create a cohort in a product; names are unique within the product.
#[utoipa::path(post, path = "/v1/products/{product}/cohorts", operation_id = "createCohort", tag = "cohorts", request_body = CreateCohort,
    params(("product" = String, Path, description = "Product name or ID"),),
    responses((status = 201, body = Cohort)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateCohort>,
) -> ApiResult<Response> {
    let cohort = domain::cohorts::create(&state.pool, &principal, &product, body).await?;
    let location = format!("/v1/products/{}/cohorts/{}", cohort.product_id, cohort.id);
    Ok(resource(
        StatusCode::CREATED,
        &cohort,
        cohort.revision,
        Some(location),
    ))
}

/// Show a cohort by name or ID within its product.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts/{cohort}", operation_id = "getCohort", tag = "cohorts",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID")),
    responses((status = 200, body = Cohort)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let cohort = domain::cohorts::get(&state.pool, &principal, &product, &cohort).await?;
    Ok(resource(StatusCode::OK, &cohort, cohort.revision, None))
}

/// Rename or describe a cohort. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/cohorts/{cohort}", operation_id = "updateCohort", tag = "cohorts", request_body = UpdateCohort,
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Cohort)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateCohort>,
) -> ApiResult<Response> {
    let names = (product.as_str(), cohort.as_str());
    let cohort = domain::cohorts::update(&state.pool, &principal, names, if_match.0, body).await?;
    Ok(resource(StatusCode::OK, &cohort, cohort.revision, None))
}

/// Delete a cohort; its devices stay in the product with no cohort. Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/products/{product}/cohorts/{cohort}", operation_id = "deleteCohort", tag = "cohorts",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let names = (product.as_str(), cohort.as_str());
    domain::cohorts::delete(&state.pool, &principal, names, if_match.0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(list_all, Access::read()),
        route!(list, Access::read()),
        route!(create, Access::write()),
        route!(get, Access::read()),
        route!(update, Access::write()),
        route!(delete, Access::write()),
    ]
}
