//! API keys: generation, hashing, and the middleware that turns `Authorization: Bearer <key>`
//! into a [`Principal`] (rejecting unknown, revoked and expired keys, and clients that guess).
//! Keys are never logged or stored; only their SHA-256 is. What a principal may do is
//! [`super::authz`]'s business.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use super::hex::hex;
use super::key_cache::CachedKey;
use super::state::AppState;
use super::store;
use super::transport::ClientIp;
use crate::api::{ErrorCode, OrgId, ProductId, Role};

/// Every key starts with this, so leaked keys are easy to spot (and to scan for).
pub const KEY_PREFIX: &str = "fleet_";
/// Random bytes per key: 256 bits.
const KEY_BYTES: usize = 32;
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A new key: `fleet_` + 32 random bytes in base64url (43 characters).
pub fn generate_key() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// How many characters of a key (after `fleet_`) are kept to recognise it.
const PREFIX_CHARS: usize = 8;

/// The recognisable start of a key, `fleet_` + 8 characters, stored and shown in listings.
pub fn key_prefix(key: &str) -> &str {
    key.get(..KEY_PREFIX.len() + PREFIX_CHARS).unwrap_or(key)
}

/// Lowercase hex SHA-256 of the whole key, the form stored in `api_keys.hash`.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Who is calling: the API key's organization, role and product scope, set by [`require_key`].
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: OrgId,
    pub key_id: String,
    pub key_name: String,
    pub role: Role,
    /// `None`: every product of the organization.
    pub scope: Option<Arc<[ProductId]>>,
}

impl Principal {
    /// The key as the audit log records it.
    pub fn actor(&self) -> store::events::Actor<'_> {
        store::events::Actor {
            key_id: Some(&self.key_id),
            key_name: Some(&self.key_name),
        }
    }

    /// The products this key is limited to; `None` for an org-wide key.
    pub fn scope(&self) -> Option<&[ProductId]> {
        self.scope.as_deref()
    }

    /// Whether the key may see `product` (and everything in it).
    pub fn sees(&self, product: &ProductId) -> bool {
        self.scope().is_none_or(|scope| scope.contains(product))
    }

    /// 403 unless the key's scope covers `product`, which a write names in its body (`name` is
    /// how the request named it). Answered without saying whether such a product exists.
    pub fn check_writable(&self, product: Option<&ProductId>, name: &str) -> Result<(), ApiError> {
        if product.is_some_and(|p| self.sees(p)) || self.scope.is_none() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("this API key is limited to other products and may not write to `{name}`"),
        )
        .with_hint("see the key's scope with `fleet whoami`"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("missing API key"))
    }
}

/// Middleware: rejects the request with 401 unless it carries a valid API key (known, not
/// revoked, not expired), and an invalid key with 429 when its client has presented too many.
pub async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match authenticate(&state, &parts).await {
        Ok(principal) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(response) => response,
    }
}

/// The client's address as the connection layer resolved it (behind trusted proxies, from
/// `X-Forwarded-For`), else the peer's; tests that call the router without a socket share one
/// bucket.
fn client_ip(parts: &Parts) -> IpAddr {
    if let Some(ClientIp(ip)) = parts.extensions.get::<ClientIp>() {
        return *ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// The principal of a request's API key, or the response refusing it (401, 429).
pub(super) async fn authenticate(state: &AppState, parts: &Parts) -> Result<Principal, Response> {
    let presented = bearer_token(parts).ok_or_else(|| {
        ApiError::unauthorized("missing API key")
            .with_hint("send it as `Authorization: Bearer <key>`")
            .into_response()
    })?;
    let ip = client_ip(parts);
    // The key is checked before the client's failure budget, so a valid key always works: one
    // address may be many clients (a NAT, a proxy without --trusted-proxy), and one of them
    // guessing must not lock the others out. Only invalid keys are counted and refused.
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let key = match cached_or_stored(state, &digest).await? {
        Some(key) => key,
        None => {
            if let Some(wait) = state.limiter.record_failure(&state.pool, ip).await {
                return Err(too_many_failures(wait));
            }
            // No organization is known for an unknown key, so nothing goes to any audit log;
            // the service log notes the client (never the key).
            tracing::warn!(client = %ip, method = %parts.method, path = parts.uri.path(),
                "request with an unknown API key");
            return Err(ApiError::unauthorized("unknown API key")
                .with_hint("check the key, or create a new one with an admin key")
                .into_response());
        }
    };
    // Expiry is checked against the clock on every request, cached key or not.
    let refusal = if key.revoked {
        Some(("revoked", "this API key was revoked"))
    } else if key.expires_at.is_some_and(|at| at <= store::now()) {
        Some(("expired", "this API key has expired"))
    } else {
        None
    };
    let principal = &key.principal;
    if let Some((reason, message)) = refusal {
        if let Some(wait) = state.limiter.record_failure(&state.pool, ip).await {
            return Err(too_many_failures(wait));
        }
        let details = serde_json::json!({
            "status": 401, "reason": reason, "method": parts.method.as_str(),
            "path": parts.uri.path(),
        });
        super::domain::audit::record_denial(&state.pool, principal, None, details).await;
        return Err(ApiError::unauthorized(message)
            .with_hint("ask an admin for a new key (`fleet api-key create`)")
            .into_response());
    }
    touch(state, &principal.key_id);
    Ok(principal.clone())
}

/// The key whose SHA-256 is `digest`: from the cache when it is still trusted (see
/// [`super::key_cache`]), else from the database (and then cached). `None`: no such key.
async fn cached_or_stored(
    state: &AppState,
    digest: &[u8; 32],
) -> Result<Option<Arc<CachedKey>>, Response> {
    let now = Instant::now();
    if let Some(hit) = state.keys.get(digest, now) {
        // A read started after this request arrived, so after any revocation answered before.
        if state.epoch.fresh().await == Some(hit.epoch) {
            return Ok(Some(hit.key));
        }
    }
    // Taken before the query, so a row read just before a revocation is never cached past it;
    // the first request of a replica reads it.
    let epoch = match state.keys.epoch() {
        Some(epoch) => Some(epoch),
        None => state.epoch.fresh().await,
    };
    let hash = hex(digest);
    let row = store::api_keys::find_by_hash(&state.pool, &hash)
        .await
        .map_err(|err| ApiError::from(err).into_response())?;
    // The lookup is by hash, so a timing difference could only reveal hash prefixes; the
    // constant-time comparison closes even that. (A cache hit compares hashes in a hash map:
    // the same reasoning, on the hash of the client's own guess.)
    let Some(row) = row.filter(|row| bool::from(row.hash.as_bytes().ct_eq(hash.as_bytes()))) else {
        return Ok(None);
    };
    let role = Role::parse(&row.role).ok_or_else(|| {
        tracing::error!(key_id = %row.id, role = %row.role, "stored API key role is malformed");
        ApiError::internal().into_response()
    })?;
    let org_id = OrgId::parse(&row.org_id).ok_or_else(|| {
        tracing::error!(key_id = %row.id, org_id = %row.org_id, "stored organization ID is malformed");
        ApiError::internal().into_response()
    })?;
    let scope = row.scoped.then(|| {
        row.scope
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(ProductId::parse)
            .collect::<Arc<[ProductId]>>()
    });
    let key = Arc::new(CachedKey {
        principal: Principal {
            org_id,
            key_id: row.id,
            key_name: row.name,
            role,
            scope,
        },
        expires_at: row.expires_at,
        revoked: row.revoked_at.is_some(),
    });
    if let Some(epoch) = epoch {
        state.keys.insert(*digest, Arc::clone(&key), epoch, now);
    }
    Ok(Some(key))
}

fn too_many_failures(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("too many invalid API keys from this client; retry in {seconds} s"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::try_from(seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Records `last_used_at`, at most once a minute per key, in a task of its own: the write
/// may queue for SQLite's write lock, which the request must not wait for. A failure here never
/// fails anything.
fn touch(state: &AppState, key_id: &str) {
    let due = {
        let mut touched = state
            .key_touched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let due = touched
            .get(key_id)
            .is_none_or(|last| now.duration_since(*last) >= TOUCH_EVERY);
        if due {
            touched.insert(key_id.to_owned(), now);
        }
        due
    };
    if !due {
        return;
    }
    let (pool, key_id, at) = (state.pool.clone(), key_id.to_owned(), store::now());
    tokio::spawn(async move {
        if let Err(err) = store::api_keys::touch(&pool, &key_id, at).await {
            tracing::warn!(error = %err, "could not record API key use");
        }
    });
}
