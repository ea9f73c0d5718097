//! `/v1/products/{product}/releases`, adapters over `domain::firmware::releases`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{CreateRelease, Page, Release, ReleaseListQuery, UpdateRelease};
use crate::server::auth::Principal;
use crate::server::domain::firmware::releases;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::handlers::resource;
use crate::server::state::AppState;

/// List a product's releases (of one cohort with `cohort=`), oldest first.
#[utoipa::path(get, path = "/v1/products/{product}/releases", operation_id = "listReleases", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"), ReleaseListQuery),
    responses((status = 200, body = Page<Release>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReleaseListQuery>,
) -> ApiResult<Json<Page<Release>>> {
    let cohort = query.cohort.as_deref();
    let bounds = (query.limit, query.cursor.as_deref());
    let page = releases::list(&state.pool, &principal, &product, cohort, bounds).await?;
    Ok(Json(page))
}

/// Show a release.
#[utoipa::path(get, path = "/v1/products/{product}/releases/{release}", operation_id = "getRelease", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Release)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let release = releases::get(&state.pool, &principal, &product, &release).await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}

/// Release a bundle to a cohort. The bundle must be of the cohort's product (409 otherwise);
/// with the product's `require_signed_firmware`, every binary in it must be signed (409).
#[utoipa::path(post, path = "/v1/products/{product}/releases", operation_id = "createRelease", tag = "firmware",
    request_body = CreateRelease,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 201, body = Release)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRelease>,
) -> ApiResult<Response> {
    let release = releases::create(&state.pool, &principal, &product, body).await?;
    let location = format!(
        "/v1/products/{}/releases/{}",
        release.product_id, release.id
    );
    Ok(resource(
        StatusCode::CREATED,
        &release,
        release.revision,
        Some(location),
    ))
}

/// Change a release's rollout percentage or `required`. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/releases/{release}", operation_id = "updateRelease", tag = "firmware",
    request_body = UpdateRelease,
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Release)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateRelease>,
) -> ApiResult<Response> {
    let names = (product.as_str(), release.as_str());
    let release = releases::update(&state.pool, &principal, names, if_match.0, body).await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}
