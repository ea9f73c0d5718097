//! `/v1/products/{product}/artifacts[/{artifact}[/versions[/{version}]]]`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::check_active;
use crate::api::firmware::validate_version;
use crate::api::{
    Artifact, ArtifactId, ArtifactVersion, AuditAction, CreateArtifact, CreateVersion, Page,
    PageQuery, Product, VersionId, validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::handlers::{Validator, audit, product_or_404, resource, unique_or};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn};

pub(super) async fn artifact_or_404(
    conn: &mut Conn,
    product: &Product,
    reference: &str,
) -> ApiResult<Artifact> {
    fw::artifact(conn, &product.id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no artifact `{reference}`",
                product.name
            ))
            .with_hint(format!(
                "list its artifacts with `fleet firmware list --product {}`",
                product.name
            ))
        })
}

pub(super) async fn version_or_404(
    conn: &mut Conn,
    artifact: &Artifact,
    reference: &str,
) -> ApiResult<ArtifactVersion> {
    fw::version(conn, &artifact.id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "artifact `{}` has no version `{reference}`",
                artifact.name
            ))
        })
}

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
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ArtifactId::parse)?;
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::artifacts(&mut conn, &product.id, &bounds).await?;
    Ok(Json(page.finish(rows, |a| a.id.as_str())))
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
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check(
        "name",
        validate::name("artifact", ArtifactId::PREFIX, &body.name),
    );
    v.check("description", validate::description(&description));
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    check_active(&product)?;
    let duplicate = || {
        ApiError::conflict(format!(
            "product `{}` already has an artifact named `{}`",
            product.name, body.name
        ))
    };
    if fw::artifact(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let id = ArtifactId::generate();
    fw::insert_artifact(
        &mut tx,
        org,
        &id,
        &product.id,
        &body.name,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, duplicate))?;
    let artifact = artifact_or_404(&mut tx, &product, id.as_str()).await?;
    let details = serde_json::json!({ "name": artifact.name });
    audit(
        &mut tx,
        &principal,
        AuditAction::ArtifactCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    let location = format!("/v1/products/{}/artifacts/{id}", product.id);
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
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let artifact = artifact_or_404(&mut conn, &product, &artifact).await?;
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
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), VersionId::parse)?;
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let artifact = artifact_or_404(&mut conn, &product, &artifact).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::versions(&mut conn, &artifact.id, &bounds).await?;
    Ok(Json(page.finish(rows, |v| v.id.as_str())))
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
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check("version", validate_version(&body.version));
    if VersionId::parse(&body.version).is_some() {
        v.check(
            "version",
            Err("a version must not look like a version ID".into()),
        );
    }
    v.check("description", validate::description(&description));
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    check_active(&product)?;
    let artifact = artifact_or_404(&mut tx, &product, &artifact).await?;
    let duplicate = || {
        ApiError::conflict(format!(
            "artifact `{}` already has version `{}`",
            artifact.name, body.version
        ))
    };
    if fw::version(&mut tx, &artifact.id, &body.version)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let id = VersionId::generate();
    fw::insert_version(
        &mut tx,
        org,
        &id,
        &artifact,
        &body.version,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, duplicate))?;
    let version = version_or_404(&mut tx, &artifact, id.as_str()).await?;
    let details = serde_json::json!({ "artifact": artifact.name, "version": version.version });
    audit(
        &mut tx,
        &principal,
        AuditAction::VersionCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    let location = format!(
        "/v1/products/{}/artifacts/{}/versions/{id}",
        product.id, artifact.id
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
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let artifact = artifact_or_404(&mut conn, &product, &artifact).await?;
    let version = version_or_404(&mut conn, &artifact, &version).await?;
    Ok(resource(StatusCode::OK, &version, 1, None))
}
