//! Binaries: declaring an upload, listing and showing, received parts, completion and
//! download, adapters over `domain::firmware::binaries` (the download's stream becomes the
//! response body here).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::firmware::SHA256_HEADER;
use crate::api::{
    Binary, BinaryListQuery, BinaryParts, BinaryUpload, CompleteBinary, CreateBinary, Page,
};
use crate::server::auth::Principal;
use crate::server::domain::firmware::{binaries, lifecycle};
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::AppState;

/// Declare a binary (size and SHA-256) for one target of a version, and get its part URLs.
/// 201: new upload. 200: this file is already there (ready) or partly uploaded (resume), or an
/// unfinished upload of another file was started over. 409: a ready binary with another digest.
#[utoipa::path(post, path = "/v1/products/{product}/artifacts/{artifact}/versions/{version}/binaries", operation_id = "createBinary",
    tag = "firmware", request_body = CreateBinary,
    params(("product" = String, Path, description = "Product name or ID"),
        ("artifact" = String, Path, description = "Artifact name or ID"),
        ("version" = String, Path, description = "Version string or ID")),
    responses((status = 201, body = BinaryUpload), (status = 200, body = BinaryUpload)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, artifact, version)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<CreateBinary>,
) -> ApiResult<Response> {
    let names = (product.as_str(), artifact.as_str(), version.as_str());
    let declared = binaries::declare(&state.pool, &state.firmware, &principal, names, body).await?;
    let status = if declared.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(declared.upload)).into_response())
}

/// List binaries, filtered by product, artifact, version, target and state.
#[utoipa::path(get, path = "/v1/binaries", operation_id = "listBinaries", tag = "firmware", params(BinaryListQuery),
    responses((status = 200, body = Page<Binary>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<BinaryListQuery>,
) -> ApiResult<Json<Page<Binary>>> {
    Ok(Json(binaries::list(&state.pool, &principal, &query).await?))
}

/// Show a binary.
#[utoipa::path(get, path = "/v1/binaries/{binary}", operation_id = "getBinary", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID")),
    responses((status = 200, body = Binary)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
) -> ApiResult<Json<Binary>> {
    Ok(Json(binaries::get(&state.pool, &principal, &binary).await?))
}

/// Abandon an unfinished upload: the binary, its received parts and their stored bytes go.
/// 409 for a ready binary (immutable: bundles, releases and devices may rely on it).
#[utoipa::path(delete, path = "/v1/binaries/{binary}", operation_id = "abandonBinary", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID")),
    responses((status = 204, description = "The upload was abandoned"),
        (status = 409, description = "The binary is ready", body = crate::api::ErrorBody)))]
pub async fn abandon(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
) -> ApiResult<Response> {
    lifecycle::abandon(&state.pool, &state.firmware, &principal, &binary).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The parts the service holds for a binary, to resume an upload.
#[utoipa::path(get, path = "/v1/binaries/{binary}/parts", operation_id = "listBinaryParts", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID")),
    responses((status = 200, body = BinaryParts)))]
pub async fn parts(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
) -> ApiResult<Json<BinaryParts>> {
    Ok(Json(
        binaries::parts(&state.pool, &principal, &binary).await?,
    ))
}

/// Finish an upload: every part must be there and the SHA-256 over all of them must be the
/// one named here (`sha256`), or else the one declared with the upload; only then is the binary
/// ready. A ready binary answers 200 again (409 if `sha256` names another digest).
#[utoipa::path(post, path = "/v1/binaries/{binary}/complete", operation_id = "completeBinary", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID")),
    request_body = CompleteBinary,
    responses((status = 200, body = Binary)))]
pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
    ApiJson(body): ApiJson<CompleteBinary>,
) -> ApiResult<Json<Binary>> {
    let (pool, firmware, named) = (&state.pool, &state.firmware, body.sha256.as_deref());
    let ready = binaries::complete(pool, firmware, &principal, &binary, named).await?;
    Ok(Json(ready))
}

/// Download a ready binary: its bytes, with `Content-Length` and `x-fleet-sha256`.
#[utoipa::path(get, path = "/v1/binaries/{binary}/download", operation_id = "downloadBinary", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 409, description = "The binary is still uploading", body = crate::api::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
) -> ApiResult<Response> {
    let (b, bytes) = binaries::download(&state.pool, &state.firmware, &principal, &binary).await?;
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(b.size));
    if let Ok(digest) = HeaderValue::try_from(b.sha256.as_str()) {
        headers.insert(SHA256_HEADER, digest);
    }
    Ok(response)
}
