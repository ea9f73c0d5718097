//! API keys: creation (through the API, and offline for recovery, by the same function),
//! listing, revocation and `whoami`. A scoped admin manages keys within its own products.

use axum::http::StatusCode;
use serde_json::json;

use super::lookup::unknown_product;
use super::{Validator, audit};
use crate::api::{
    ApiKey, ApiKeyId, ApiKeyListQuery, AuditAction, CreateApiKey, CreatedApiKey, ErrorCode, OrgId,
    Page, ProductId, Whoami, validate,
};
use crate::server::auth::{self, Principal};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Conn, Pool, events::Actor, events::AuditEvent};

/// Who creates a key.
#[derive(Debug, Clone, Copy)]
pub enum Creator<'a> {
    /// An API key, through the API: limited by its own scope, and recorded as the actor.
    Key(&'a Principal),
    /// An operator with file access to the data dir (`fleet server api-key create`): org-wide,
    /// with no actor.
    Offline,
}

impl Creator<'_> {
    /// The products the creator manages keys of; `None` for all.
    fn scope(&self) -> Option<&[ProductId]> {
        match self {
            Creator::Key(principal) => principal.scope(),
            Creator::Offline => None,
        }
    }

    fn sees(&self, product: &ProductId) -> bool {
        self.scope().is_none_or(|scope| scope.contains(product))
    }
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
}

/// The one key `reference` (ID, `fleet_…` prefix or name) names among those within `scope`;
/// 404 when none, 409 when a name is shared.
async fn key_or_404(
    conn: &mut Conn,
    org_id: &OrgId,
    scope: Option<&[ProductId]>,
    reference: &str,
) -> ApiResult<ApiKey> {
    let mut keys = store::api_keys::resolve(conn, org_id, reference, scope).await?;
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
    org_id: &OrgId,
    creator: Creator<'_>,
    requested: Option<&[String]>,
) -> ApiResult<Option<Vec<ProductId>>> {
    let Some(requested) = requested else {
        if creator.scope().is_some() {
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
        let id = store::api_keys::product_id_of(conn, org_id, reference).await?;
        match id {
            Some(id) if creator.sees(&id) => ids.push(id),
            _ if creator.scope().is_some() => {
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

/// Creates an API key in `org_id` and records `api_key.created`; the secret is in the answer
/// only. The API and offline recovery both create keys here.
pub async fn create(
    pool: &Pool,
    org_id: &OrgId,
    creator: Creator<'_>,
    body: CreateApiKey,
) -> ApiResult<CreatedApiKey> {
    let mut v = Validator::default();
    v.check("name", validate::api_key_name(&body.name));
    if body.expires_at.is_some_and(|at| at <= store::now()) {
        v.check("expires_at", Err("must be in the future".into()));
    }
    v.finish()?;
    let mut tx = store::begin_write(pool).await?;
    let scope = resolve_scope(&mut tx, org_id, creator, body.products.as_deref()).await?;
    let secret = auth::generate_key();
    let id = ApiKeyId::generate();
    let (actor, created_by) = match creator {
        Creator::Key(principal) => (principal.actor(), Some(principal.key_id.as_str())),
        Creator::Offline => (Actor::default(), None),
    };
    let new = store::api_keys::NewKey {
        id: &id,
        org_id,
        name: &body.name,
        role: body.role,
        hash: &auth::hash_key(&secret),
        prefix: auth::key_prefix(&secret),
        expires_at: body.expires_at,
        created_by,
        products: scope.as_deref(),
    };
    store::api_keys::insert(&mut tx, &new, store::now()).await?;
    let details = match creator {
        Creator::Key(_) => json!({
            "name": body.name, "role": body.role.as_str(), "products": scope,
            "expires_at": body.expires_at,
        }),
        Creator::Offline => {
            json!({ "name": body.name, "role": body.role.as_str(), "offline": true })
        }
    };
    AuditEvent::new(org_id, actor, AuditAction::ApiKeyCreated, details)
        .resource(id.as_str())
        .record(&mut tx)
        .await?;
    let key = key_or_404(&mut tx, org_id, creator.scope(), id.as_str()).await?;
    tx.commit().await?;
    Ok(CreatedApiKey { key, secret })
}

/// One page of the keys the caller manages (not revoked ones unless `revoked=true`).
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    query: &ApiKeyListQuery,
) -> ApiResult<Page<ApiKey>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ApiKeyId::parse)?;
    let mut conn = pool.acquire().await?;
    let filter = store::api_keys::ListFilter {
        include_revoked: query.revoked.unwrap_or(false),
        within: principal.scope(),
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = store::api_keys::list(&mut conn, &principal.org_id, &filter).await?;
    Ok(page.finish(rows, |k| k.id.as_str()))
}

/// The key `reference` (ID, prefix or name) among those the caller manages.
pub async fn get(pool: &Pool, principal: &Principal, reference: &str) -> ApiResult<ApiKey> {
    let mut conn = pool.acquire().await?;
    key_or_404(&mut conn, &principal.org_id, principal.scope(), reference).await
}

/// Revokes the key `reference`; revoking a revoked key changes nothing and records nothing.
/// The same transaction bumps the API key epoch (by trigger), so every replica stops trusting
/// its cached copy of the key when this commits.
pub async fn revoke(pool: &Pool, principal: &Principal, reference: &str) -> ApiResult<ApiKey> {
    let (org, scope) = (&principal.org_id, principal.scope());
    let mut tx = store::begin_write(pool).await?;
    let key = key_or_404(&mut tx, org, scope, reference).await?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    store::api_keys::revoke(&mut tx, &key.id, store::now()).await?;
    let details = json!({ "name": key.name, "role": key.role.as_str() });
    let action = AuditAction::ApiKeyRevoked;
    audit::record_org_wide(&mut tx, principal, action, key.id.as_str(), details).await?;
    let key = key_or_404(&mut tx, org, scope, key.id.as_str()).await?;
    tx.commit().await?;
    Ok(key)
}

/// The caller's own key: name, role, product scope and organization.
pub async fn whoami(pool: &Pool, principal: &Principal) -> ApiResult<Whoami> {
    let mut conn = pool.acquire().await?;
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
    Ok(Whoami {
        key_id,
        key_name: principal.key_name.clone(),
        role: principal.role,
        products,
        org_id: principal.org_id.clone(),
        org_name,
        expires_at,
    })
}
