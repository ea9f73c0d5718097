//! `/v1/api-keys` (admin only; a scoped admin manages keys within its own products) and
//! `/v1/whoami`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::{ApiKey, ApiKeyListQuery, CreateApiKey, CreatedApiKey, Page, Whoami};
use crate::server::auth::Principal;
use crate::server::domain::{self, api_keys::Creator};
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::AppState;

/// Create an API key. The secret is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", operation_id = "createApiKey", tag = "access", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> ApiResult<Response> {
    let creator = Creator::Key(&principal);
    let created = domain::api_keys::create(&state.pool, &principal.org_id, creator, body).await?;
    let location = format!("/v1/api-keys/{}", created.key.id);
    let mut response = (StatusCode::CREATED, Json(created)).into_response();
    if let Ok(value) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    // The body carries a secret: keep it out of every cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// List API keys in creation order (not revoked ones unless `revoked=true`).
#[utoipa::path(get, path = "/v1/api-keys", operation_id = "listApiKeys", tag = "access", params(ApiKeyListQuery),
    responses((status = 200, body = Page<ApiKey>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ApiKeyListQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let page = domain::api_keys::list(&state.pool, &principal, &query).await?;
    Ok(Json(page))
}

/// Show an API key by ID, prefix (`fleet_…`) or name. Never the secret.
#[utoipa::path(get, path = "/v1/api-keys/{key}", operation_id = "getApiKey", tag = "access",
    params(("key" = String, Path, description = "Key ID, prefix or name")),
    responses((status = 200, body = ApiKey),
        (status = 409, body = crate::api::ErrorBody, description = "The name fits more than one key")))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Json<ApiKey>> {
    let key = domain::api_keys::get(&state.pool, &principal, &reference).await?;
    Ok(Json(key))
}

/// Revoke an API key: it stops working with the next request, on every replica. Revoking a
/// revoked key changes nothing and answers the same.
#[utoipa::path(post, path = "/v1/api-keys/{key}/revoke", operation_id = "revokeApiKey", tag = "access",
    params(("key" = String, Path, description = "Key ID, prefix or name")),
    responses((status = 200, body = ApiKey)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Json<ApiKey>> {
    // The revoking transaction bumps the API key epoch (a database trigger), which every
    // replica reads before it trusts a cached key: see `server::auth_epoch`.
    let key = domain::api_keys::revoke(&state.pool, &principal, &reference).await?;
    Ok(Json(key))
}

/// The API key making this request: its name, role, product scope and organization.
#[utoipa::path(get, path = "/v1/whoami", operation_id = "whoami", tag = "access",
    responses((status = 200, body = Whoami)))]
pub async fn whoami(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Whoami>> {
    Ok(Json(
        domain::api_keys::whoami(&state.pool, &principal).await?,
    ))
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(whoami, Access::read()),
        route!(list, Access::admin()),
        route!(create, Access::admin()),
        route!(get, Access::admin()),
        route!(revoke, Access::admin()),
    ]
}
