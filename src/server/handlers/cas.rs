//! `/v1/products/{product}/cas` and the org-wide `/v1/cas` list: certificate authorities.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::resource;
use crate::api::{CaListQuery, CertificateAuthority, CreateCa, Page, UpdateCa};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::state::AppState;

/// List certificate authorities across all products, or of one with `product=`.
#[utoipa::path(get, path = "/v1/cas", operation_id = "listAllCas", tag = "identity", params(CaListQuery),
    responses((status = 200, body = Page<CertificateAuthority>)))]
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CaListQuery>,
) -> ApiResult<Json<Page<CertificateAuthority>>> {
    let page = domain::cas::list(
        &state.pool,
        &principal,
        query.product.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}

/// List the certificate authorities of one product.
#[utoipa::path(get, path = "/v1/products/{product}/cas", operation_id = "listCas", tag = "identity",
    params(("product" = String, Path, description = "Product name or ID"), crate::api::firmware::PageQuery),
    responses((status = 200, body = Page<CertificateAuthority>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<CaListQuery>,
) -> ApiResult<Json<Page<CertificateAuthority>>> {
    if query.product.is_some() {
        return Err(ApiError::bad_request(
            "`product` is already given in the path; drop the query parameter",
        ));
    }
    let page = domain::cas::list(
        &state.pool,
        &principal,
        Some(&product),
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}

/// Register a CA certificate for a product's devices. The certificate must be a CA allowed to
/// sign certificates, not expired, and not registered anywhere yet.
#[utoipa::path(post, path = "/v1/products/{product}/cas", operation_id = "createCa", tag = "identity", request_body = CreateCa,
    params(("product" = String, Path, description = "Product name or ID"),),
    responses((status = 201, body = CertificateAuthority)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateCa>,
) -> ApiResult<Response> {
    let ca = domain::cas::create(&state.pool, &principal, &product, body).await?;
    let location = format!("/v1/products/{}/cas/{}", ca.product_id, ca.id);
    Ok(resource(
        StatusCode::CREATED,
        &ca,
        ca.revision,
        Some(location),
    ))
}

/// Show a certificate authority by name or ID within its product.
#[utoipa::path(get, path = "/v1/products/{product}/cas/{ca}", operation_id = "getCa", tag = "identity",
    params(("product" = String, Path, description = "Product name or ID"),
        ("ca" = String, Path, description = "Certificate authority name or ID")),
    responses((status = 200, body = CertificateAuthority)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, ca)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let ca = domain::cas::get(&state.pool, &principal, &product, &ca).await?;
    Ok(resource(StatusCode::OK, &ca, ca.revision, None))
}

/// Enable or disable a certificate authority or change its JITP settings. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/cas/{ca}", operation_id = "updateCa", tag = "identity", request_body = UpdateCa,
    params(("product" = String, Path, description = "Product name or ID"),
        ("ca" = String, Path, description = "Certificate authority name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = CertificateAuthority)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, ca)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateCa>,
) -> ApiResult<Response> {
    let names = (product.as_str(), ca.as_str());
    let ca = domain::cas::update(&state.pool, &principal, names, if_match.0, body).await?;
    Ok(resource(StatusCode::OK, &ca, ca.revision, None))
}

/// Delete a certificate authority; device certificates it issued stay, linked to no CA.
/// Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/products/{product}/cas/{ca}", operation_id = "deleteCa", tag = "identity",
    params(("product" = String, Path, description = "Product name or ID"),
        ("ca" = String, Path, description = "Certificate authority name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, ca)): ApiPath<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let names = (product.as_str(), ca.as_str());
    domain::cas::delete(&state.pool, &principal, names, if_match.0).await?;
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
