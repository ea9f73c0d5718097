//! `/v1/products`: create, list, show, update (rename, archive), delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::resource;
use crate::api::{CreateProduct, Page, Product, ProductListQuery, UpdateProduct};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::state::AppState;

/// List products in creation order.
#[utoipa::path(get, path = "/v1/products", operation_id = "listProducts", tag = "products", params(ProductListQuery),
    responses((status = 200, body = Page<Product>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ProductListQuery>,
) -> ApiResult<Json<Page<Product>>> {
    let page = domain::products::list(&state.pool, &principal, &query).await?;
    Ok(Json(page))
}

/// Create a product; its name must be unique in the organization.
#[utoipa::path(post, path = "/v1/products", operation_id = "createProduct", tag = "products", request_body = CreateProduct,
    responses((status = 201, body = Product)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateProduct>,
) -> ApiResult<Response> {
    let product = domain::products::create(&state.pool, &principal, body).await?;
    let location = format!("/v1/products/{}", product.id);
    Ok(resource(
        StatusCode::CREATED,
        &product,
        product.revision,
        Some(location),
    ))
}

/// Show a product by name or ID.
#[utoipa::path(get, path = "/v1/products/{product}", operation_id = "getProduct", tag = "products",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = Product)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Response> {
    let product = domain::products::get(&state.pool, &principal, &reference).await?;
    Ok(resource(StatusCode::OK, &product, product.revision, None))
}

/// Update a product: rename, describe, retag, archive or unarchive. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}", operation_id = "updateProduct", tag = "products", request_body = UpdateProduct,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Product)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateProduct>,
) -> ApiResult<Response> {
    let product =
        domain::products::update(&state.pool, &principal, &reference, if_match.0, body).await?;
    Ok(resource(StatusCode::OK, &product, product.revision, None))
}

/// Delete a product with its cohorts and firmware; refused (409) while it has devices. Honours
/// `If-Match`.
#[utoipa::path(delete, path = "/v1/products/{product}", operation_id = "deleteProduct", tag = "products",
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let blobs = &state.firmware.blobs;
    domain::products::delete(&state.pool, blobs, &principal, &reference, if_match.0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(list, Access::read()),
        route!(create, Access::write().org_wide()),
        route!(get, Access::read()),
        route!(update, Access::write()),
        route!(delete, Access::write().org_wide()),
    ]
}
