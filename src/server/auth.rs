//! API keys: generation, hashing, and the middleware that turns `Authorization: Bearer <key>`
//! into a [`Principal`]. Keys are never logged or stored; only their SHA-256 is.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use super::state::AppState;
use super::store;

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

/// Lowercase hex SHA-256 of the whole key, the form stored in `api_keys.hash`.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Who is calling: the API key's organization and role, set by [`require_key`].
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: String,
    pub key_id: String,
    pub key_name: String,
    /// Not read yet: roles and product scopes come with API key management.
    #[allow(dead_code)]
    pub role: String,
}

impl Principal {
    /// The key as the audit log records it.
    pub fn actor(&self) -> store::events::Actor<'_> {
        store::events::Actor {
            key_id: Some(&self.key_id),
            key_name: Some(&self.key_name),
        }
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

/// Middleware: rejects the request with 401 unless it carries a known API key.
pub async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = bearer_token(&request).map(str::to_owned);
    match authenticate(&state, presented).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

async fn authenticate(state: &AppState, presented: Option<String>) -> Result<Principal, ApiError> {
    let presented = presented.ok_or_else(|| {
        ApiError::unauthorized("missing API key")
            .with_hint("send it as `Authorization: Bearer <key>`")
    })?;
    let hash = hash_key(&presented);
    let row = store::api_keys::find_by_hash(&state.pool, &hash).await?;
    // The lookup is by hash, so a timing difference could only reveal hash prefixes; the
    // constant-time comparison closes even that.
    let Some(row) = row.filter(|row| bool::from(row.hash.as_bytes().ct_eq(hash.as_bytes()))) else {
        return Err(ApiError::unauthorized("unknown API key")
            .with_hint("check the key, or create a new one with an admin key"));
    };
    touch(state, &row.id).await;
    Ok(Principal {
        org_id: row.org_id,
        key_id: row.id,
        key_name: row.name,
        role: row.role,
    })
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Records `last_used_at`, at most once a minute per key; a failure here never fails the request.
async fn touch(state: &AppState, key_id: &str) {
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
    if let Err(err) = store::api_keys::touch(&state.pool, key_id, store::now()).await {
        tracing::warn!(error = %err, "could not record API key use");
    }
}
