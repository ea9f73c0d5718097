//! `/v1/api-keys` (admin only; a scoped admin manages keys within its own products) and
//! `/v1/whoami`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Validator, unknown_product};
use crate::api::{
    ApiKey, ApiKeyId, ApiKeyListQuery, CreateApiKey, CreatedApiKey, ErrorCode, Page, ProductId,
    Whoami,
};
use crate::server::auth::{self, Principal};
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::{self, Conn, events};

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
}

fn validate_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > 64 {
        return Err("must be 1–64 characters".into());
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err("must not contain control characters or surrounding spaces".into());
    }
    Ok(())
}

/// The one key `reference` (ID, `fleet_…` prefix or name) names among those the caller may
/// manage; 404 when none, 409 when a name is shared.
async fn key_or_404(conn: &mut Conn, principal: &Principal, reference: &str) -> ApiResult<ApiKey> {
    let mut keys =
        store::api_keys::resolve(conn, &principal.org_id, reference, principal.scope()).await?;
    match keys.len() {
        0 => Err(ApiError::not_found(format!("no API key `{reference}`"))
            .with_hint("list keys with `fleet api-key list --revoked`")),
        1 => Ok(keys.remove(0)),
        _ => Err(
            ApiError::conflict(format!("{} API keys are named `{reference}`", keys.len()))
                .with_hint("name the key by its ID (see `fleet api-key list`)"),
        ),
    }
}

/// The products a new key is scoped to, resolved to IDs. A scoped admin may only hand out
/// subsets of its own scope (403 otherwise, without saying whether the product exists).
async fn resolve_scope(
    conn: &mut Conn,
    principal: &Principal,
    requested: Option<&[String]>,
) -> ApiResult<Option<Vec<ProductId>>> {
    let Some(requested) = requested else {
        if principal.scope().is_some() {
            return Err(forbidden(
                "this API key is limited to some products, so the keys it creates must be too",
            )
            .with_hint("name the products with `--product`"));
        }
        return Ok(None);
    };
    if requested.is_empty() {
        return Err(ApiError::invalid_field(
            "products",
            "name at least one product, or leave `products` out for every product",
        ));
    }
    let mut ids = Vec::with_capacity(requested.len());
    for reference in requested {
        let id = store::api_keys::product_id_of(conn, &principal.org_id, reference).await?;
        match id {
            Some(id) if principal.sees(&id) => ids.push(id),
            _ if principal.scope().is_some() => {
                return Err(forbidden(format!(
                    "this API key may only create keys for its own products, not `{reference}`"
                )));
            }
            _ => {
                return Err(unknown_product(reference));
            }
        }
    }
    ids.sort();
    ids.dedup();
    Ok(Some(ids))
}

/// Create an API key. The secret is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", operation_id = "createApiKey", tag = "access", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> ApiResult<Response> {
    let mut v = Validator::default();
    v.check("name", validate_name(&body.name));
    if body.expires_at.is_some_and(|at| at <= store::now()) {
        v.check("expires_at", Err("must be in the future".into()));
    }
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let scope = resolve_scope(&mut tx, &principal, body.products.as_deref()).await?;
    let secret = auth::generate_key();
    let id = ApiKeyId::generate();
    let new = store::api_keys::NewKey {
        id: &id,
        org_id: org,
        name: &body.name,
        role: body.role,
        hash: &auth::hash_key(&secret),
        prefix: auth::key_prefix(&secret),
        expires_at: body.expires_at,
        created_by: Some(&principal.key_id),
        products: scope.as_deref(),
    };
    store::api_keys::insert(&mut tx, &new, store::now()).await?;
    let details = json!({
        "name": body.name, "role": body.role.as_str(), "products": scope,
        "expires_at": body.expires_at,
    });
    record(&mut tx, &principal, "api_key.created", &id, details).await?;
    let key = key_or_404(&mut tx, &principal, id.as_str()).await?;
    tx.commit().await?;
    let location = format!("/v1/api-keys/{id}");
    let mut response = (StatusCode::CREATED, Json(CreatedApiKey { key, secret })).into_response();
    if let Ok(value) = axum::http::HeaderValue::try_from(location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    // The body carries a secret: keep it out of every cache.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn record(
    conn: &mut Conn,
    principal: &Principal,
    action: &str,
    id: &ApiKeyId,
    details: serde_json::Value,
) -> ApiResult<()> {
    events::record(
        conn,
        &events::NewEvent {
            org_id: &principal.org_id,
            actor: principal.actor(),
            action,
            resource_id: Some(id.as_str()),
            product_id: None,
            outcome: events::Outcome::Ok,
            details,
        },
    )
    .await?;
    Ok(())
}

/// List API keys in creation order (not revoked ones unless `revoked=true`).
#[utoipa::path(get, path = "/v1/api-keys", operation_id = "listApiKeys", tag = "access", params(ApiKeyListQuery),
    responses((status = 200, body = Page<ApiKey>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ApiKeyListQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ApiKeyId::parse)?;
    let mut conn = state.pool.acquire().await?;
    let filter = store::api_keys::ListFilter {
        include_revoked: query.revoked.unwrap_or(false),
        within: principal.scope(),
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = store::api_keys::list(&mut conn, &principal.org_id, &filter).await?;
    Ok(Json(page.finish(rows, |k| k.id.as_str())))
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
    let mut conn = state.pool.acquire().await?;
    Ok(Json(key_or_404(&mut conn, &principal, &reference).await?))
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
    let mut tx = store::begin_write(&state.pool).await?;
    let key = key_or_404(&mut tx, &principal, &reference).await?;
    if key.revoked_at.is_some() {
        return Ok(Json(key));
    }
    store::api_keys::revoke(&mut tx, &key.id, store::now()).await?;
    let details = json!({ "name": key.name, "role": key.role.as_str() });
    record(&mut tx, &principal, "api_key.revoked", &key.id, details).await?;
    let key = key_or_404(&mut tx, &principal, key.id.as_str()).await?;
    tx.commit().await?;
    // After the commit and before the answer: every replica drops its cached keys first.
    state.keys.keys_changed();
    Ok(Json(key))
}

/// The API key making this request: its name, role, product scope and organization.
#[utoipa::path(get, path = "/v1/whoami", operation_id = "whoami", tag = "access",
    responses((status = 200, body = Whoami)))]
pub async fn whoami(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Whoami>> {
    let mut conn = state.pool.acquire().await?;
    let org_name = store::api_keys::org_name(&mut conn, &principal.org_id).await?;
    let products = match principal.scope() {
        Some(scope) => {
            Some(store::api_keys::scoped_products(&mut conn, &principal.org_id, scope).await?)
        }
        None => None,
    };
    let key_id = ApiKeyId::parse(&principal.key_id).ok_or_else(ApiError::internal)?;
    let expires_at = store::api_keys::resolve(&mut conn, &principal.org_id, key_id.as_str(), None)
        .await?
        .first()
        .and_then(|k| k.expires_at);
    Ok(Json(Whoami {
        key_id,
        key_name: principal.key_name.clone(),
        role: principal.role,
        products,
        org_id: principal.org_id.clone(),
        org_name,
        expires_at,
    }))
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
