//! `/v1/products/{product}/cohorts` and the org-wide `/v1/cohorts` list.
//!
//! Deleting a cohort takes its devices out of it (their `cohort` becomes null, and their revision
//! moves); the devices stay in their product.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{
    Validator, archived, audit, find_cohort, product_or_404, resource, unique_or, visible_product,
};
use crate::api::{
    Cohort, CohortId, CohortListQuery, CreateCohort, Page, Product, UpdateCohort, validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::{self, Conn};

fn duplicate(product: &Product, name: &str) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` already has a cohort named `{name}`",
        product.name
    ))
    .with_hint("choose another name, or use the existing cohort")
}

async fn cohort_or_404(
    conn: &mut Conn,
    org_id: &str,
    product: &Product,
    reference: &str,
) -> ApiResult<Cohort> {
    find_cohort(conn, org_id, product, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no cohort `{reference}`",
                product.name
            ))
            .with_hint(format!(
                "list its cohorts with `fleet cohort list --product {}`",
                product.name
            ))
        })
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    product: Option<&str>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Json<Page<Cohort>>> {
    let page = PageRequest::new(limit, cursor, CohortId::parse)?;
    let org_id = &principal.org_id;
    let mut conn = state.pool.acquire().await?;
    let product = match product {
        Some(reference) => Some(visible_product(&mut conn, principal, reference).await?),
        None => None,
    };
    let filter = store::cohorts::ListFilter {
        product_id: product.as_ref().map(|p| &p.id),
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = store::cohorts::list_within(&mut conn, org_id, &filter, principal.scope()).await?;
    Ok(Json(page.finish(rows, |c| c.id.as_str())))
}

/// List cohorts across all products, or of one with `product=`.
#[utoipa::path(get, path = "/v1/cohorts", operation_id = "listAllCohorts", tag = "cohorts", params(CohortListQuery),
    responses((status = 200, body = Page<Cohort>)))]
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CohortListQuery>,
) -> ApiResult<Json<Page<Cohort>>> {
    list_page(
        &state,
        &principal,
        query.product.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )
    .await
}

/// List the cohorts of one product.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts", operation_id = "listCohorts", tag = "cohorts",
    params(("product" = String, Path, description = "Product name or ID"), CohortListQuery),
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
    list_page(
        &state,
        &principal,
        Some(&product),
        query.limit,
        query.cursor.as_deref(),
    )
    .await
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
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check("name", validate::cohort_name(&body.name));
    v.check("description", validate::description(&description));
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    if product.archived {
        return Err(archived(&product, "cohorts"));
    }
    if store::cohorts::get_by_name(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate(&product, &body.name));
    }
    let id = CohortId::generate();
    store::cohorts::insert(
        &mut tx,
        org,
        &id,
        &product.id,
        &body.name,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, || duplicate(&product, &body.name)))?;
    let cohort = cohort_or_404(&mut tx, org, &product, id.as_str()).await?;
    let details = serde_json::json!({ "name": cohort.name });
    let (cid, pid) = (id.as_str(), product.id.as_str());
    audit(&mut tx, &principal, "cohort.created", cid, pid, details).await?;
    tx.commit().await?;
    let location = format!("/v1/products/{}/cohorts/{id}", product.id);
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
    let org = &principal.org_id;
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, org, &product).await?;
    let cohort = cohort_or_404(&mut conn, org, &product, &cohort).await?;
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
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.check("name", validate::cohort_name(name));
    }
    if let Some(description) = &body.description {
        v.check("description", validate::description(description));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    let current = cohort_or_404(&mut tx, org, &product, &cohort).await?;
    if_match.check(&format!("cohort `{}`", current.name), current.revision)?;
    let name = body.name.unwrap_or_else(|| current.name.clone());
    let description = body
        .description
        .unwrap_or_else(|| current.description.clone());
    if name == current.name && description == current.description {
        return Ok(resource(StatusCode::OK, &current, current.revision, None));
    }
    if name != current.name
        && store::cohorts::get_by_name(&mut tx, &product.id, &name)
            .await?
            .is_some()
    {
        return Err(duplicate(&product, &name));
    }
    store::cohorts::update(&mut tx, &current.id, &name, &description, store::now())
        .await
        .map_err(|err| unique_or(err, || duplicate(&product, &name)))?;
    let cohort = cohort_or_404(&mut tx, org, &product, current.id.as_str()).await?;
    let details = serde_json::json!({ "name": cohort.name, "previous_name": current.name });
    let (cid, pid) = (cohort.id.as_str(), product.id.as_str());
    audit(&mut tx, &principal, "cohort.updated", cid, pid, details).await?;
    tx.commit().await?;
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
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    let cohort = cohort_or_404(&mut tx, org, &product, &cohort).await?;
    if_match.check(&format!("cohort `{}`", cohort.name), cohort.revision)?;
    let released = store::cohorts::delete(&mut tx, &cohort.id, store::now()).await?;
    let details = serde_json::json!({ "name": cohort.name, "devices_released": released });
    let (cid, pid) = (cohort.id.as_str(), product.id.as_str());
    audit(&mut tx, &principal, "cohort.deleted", cid, pid, details).await?;
    tx.commit().await?;
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
