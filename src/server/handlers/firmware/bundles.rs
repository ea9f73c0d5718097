//! `/v1/products/{product}/bundles`, adapters over `domain::firmware::bundles`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{Bundle, CreateBundle, Page, PageQuery};
use crate::server::auth::Principal;
use crate::server::domain::firmware::bundles;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::handlers::resource;
use crate::server::state::AppState;

/// List a product's bundles.
#[utoipa::path(get, path = "/v1/products/{product}/bundles", operation_id = "listBundles", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"), PageQuery),
    responses((status = 200, body = Page<Bundle>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Bundle>>> {
    let (limit, cursor) = (query.limit, query.cursor.as_deref());
    let page = bundles::list(&state.pool, &principal, &product, limit, cursor).await?;
    Ok(Json(page))
}

/// Show a bundle by name or ID.
#[utoipa::path(get, path = "/v1/products/{product}/bundles/{bundle}", operation_id = "getBundle", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("bundle" = String, Path, description = "Bundle name or ID")),
    responses((status = 200, body = Bundle)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, bundle)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let bundle = bundles::get(&state.pool, &principal, &product, &bundle).await?;
    Ok(resource(StatusCode::OK, &bundle, 1, None))
}

/// Create a bundle from ready binaries of this product, in order.
#[utoipa::path(post, path = "/v1/products/{product}/bundles", operation_id = "createBundle", tag = "firmware",
    request_body = CreateBundle,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 201, body = Bundle)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateBundle>,
) -> ApiResult<Response> {
    let bundle = bundles::create(&state.pool, &principal, &product, body).await?;
    let location = format!("/v1/products/{}/bundles/{}", bundle.product_id, bundle.id);
    Ok(resource(StatusCode::CREATED, &bundle, 1, Some(location)))
}
