//! `/v1/signing-keys` and `POST /v1/binaries/{binary}/signatures`, adapters over
//! `domain::firmware::signing`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{AddSignature, Binary, CreateSigningKey, Page, PageQuery, SigningKey};
use crate::server::auth::Principal;
use crate::server::domain::firmware::signing;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::handlers::resource;
use crate::server::state::AppState;

/// Register an Ed25519 public key for signing firmware.
#[utoipa::path(post, path = "/v1/signing-keys", operation_id = "createSigningKey", tag = "firmware", request_body = CreateSigningKey,
    responses((status = 201, body = SigningKey)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateSigningKey>,
) -> ApiResult<Response> {
    let key = signing::create(&state.pool, &principal, body).await?;
    let location = format!("/v1/signing-keys/{}", key.id);
    Ok(resource(StatusCode::CREATED, &key, 1, Some(location)))
}

/// List the organization's signing keys.
#[utoipa::path(get, path = "/v1/signing-keys", operation_id = "listSigningKeys", tag = "firmware", params(PageQuery),
    responses((status = 200, body = Page<SigningKey>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<SigningKey>>> {
    let (limit, cursor) = (query.limit, query.cursor.as_deref());
    let page = signing::list(&state.pool, &principal, limit, cursor).await?;
    Ok(Json(page))
}

/// Show a signing key by name or ID.
#[utoipa::path(get, path = "/v1/signing-keys/{key}", operation_id = "getSigningKey", tag = "firmware",
    params(("key" = String, Path, description = "Signing key name or ID")),
    responses((status = 200, body = SigningKey)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<SigningKey>> {
    Ok(Json(signing::get(&state.pool, &principal, &key).await?))
}

/// Delete a signing key; the signatures made with it go too.
#[utoipa::path(delete, path = "/v1/signing-keys/{key}", operation_id = "deleteSigningKey", tag = "firmware",
    params(("key" = String, Path, description = "Signing key name or ID")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    signing::delete(&state.pool, &principal, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Add a signature to a ready binary: Ed25519 over the 32 raw bytes of its SHA-256 digest,
/// verified against the named key before it is stored (422 when it does not verify).
#[utoipa::path(post, path = "/v1/binaries/{binary}/signatures", operation_id = "signBinary", tag = "firmware",
    request_body = AddSignature,
    params(("binary" = String, Path, description = "Binary ID")),
    responses((status = 201, body = Binary)))]
pub async fn sign(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(binary): ApiPath<String>,
    ApiJson(body): ApiJson<AddSignature>,
) -> ApiResult<Response> {
    let signed = signing::sign(&state.pool, &principal, &binary, body).await?;
    Ok((StatusCode::CREATED, Json(signed)).into_response())
}
