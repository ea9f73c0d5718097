//! `/v1/products/{product}/artifacts[/{artifact}[/versions[/{version}]]]`, adapters over
//! `domain::firmware::artifacts`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{Artifact, ArtifactVersion, CreateArtifact, CreateVersion, Page, PageQuery};
use crate::server::auth::Principal;
use crate::server::domain::firmware::artifacts;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::handlers::resource;
use crate::server::state::AppState;

/// List a product's artifacts.
#[utoipa::path(get, path = "/v1/products/{product}/artifacts", operation_id = "listArtifacts", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"), PageQuery),
    responses((status = 200, body = Page<Artifact>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Artifact>>> {
    let (limit, cursor) = (query.limit, query.cursor.as_deref());
    let page = artifacts::list(&state.pool, &principal, &product, limit, cursor).await?;
    Ok(Json(page))
}

/// Create an artifact (a firmware type, e.g. `app`); names are unique within the product.
#[utoipa::path(post, path = "/v1/products/{product}/artifacts", operation_id = "createArtifact", tag = "firmware",
    request_body = CreateArtifact,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 201, body = Artifact)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateArtifact>,
) -> ApiResult<Response> {
    let artifact = artifacts::create(&state.pool, &principal, &product, body).await?;
    let location = format!(
        "/v1/products/{}/artifacts/{}",
        artifact.product_id, artifact.id
    );
    Ok(resource(StatusCode::CREATED, &artifact, 1, Some(location)))
}

/// Show an artifact by name or ID.
#[utoipa::path(get, path = "/v1/products/{product}/artifacts/{artifact}", operation_id = "getArtifact", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("artifact" = String, Path, description = "Artifact name or ID")),
    responses((status = 200, body = Artifact)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, artifact)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let artifact = artifacts::get(&state.pool, &principal, &product, &artifact).await?;
    Ok(resource(StatusCode::OK, &artifact, 1, None))
}

/// List an artifact's versions, oldest first.
#[utoipa::path(get, path = "/v1/products/{product}/artifacts/{artifact}/versions", operation_id = "listArtifactVersions", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("artifact" = String, Path, description = "Artifact name or ID"), PageQuery),
    responses((status = 200, body = Page<ArtifactVersion>)))]
pub async fn list_versions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, artifact)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<ArtifactVersion>>> {
    let names = (product.as_str(), artifact.as_str());
    let (limit, cursor) = (query.limit, query.cursor.as_deref());
    let page = artifacts::list_versions(&state.pool, &principal, names, limit, cursor).await?;
    Ok(Json(page))
}

/// Create a version of an artifact; version strings are unique within the artifact.
#[utoipa::path(post, path = "/v1/products/{product}/artifacts/{artifact}/versions", operation_id = "createArtifactVersion", tag = "firmware",
    request_body = CreateVersion,
    params(("product" = String, Path, description = "Product name or ID"),
        ("artifact" = String, Path, description = "Artifact name or ID")),
    responses((status = 201, body = ArtifactVersion)))]
pub async fn create_version(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, artifact)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<CreateVersion>,
) -> ApiResult<Response> {
    let names = (product.as_str(), artifact.as_str());
    let version = artifacts::create_version(&state.pool, &principal, names, body).await?;
    let location = format!(
        "/v1/products/{}/artifacts/{}/versions/{}",
        version.product_id, version.artifact_id, version.id
    );
    Ok(resource(StatusCode::CREATED, &version, 1, Some(location)))
}

/// Show a version by version string or ID.
#[utoipa::path(get, path = "/v1/products/{product}/artifacts/{artifact}/versions/{version}", operation_id = "getArtifactVersion",
    tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("artifact" = String, Path, description = "Artifact name or ID"),
        ("version" = String, Path, description = "Version string or ID")),
    responses((status = 200, body = ArtifactVersion)))]
pub async fn get_version(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, artifact, version)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    let names = (product.as_str(), artifact.as_str(), version.as_str());
    let version = artifacts::get_version(&state.pool, &principal, names).await?;
    Ok(resource(StatusCode::OK, &version, 1, None))
}
