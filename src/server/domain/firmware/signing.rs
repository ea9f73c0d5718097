//! Signing keys (an organization's Ed25519 public keys) and binary signatures, verified before
//! they are stored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::{Signature, VerifyingKey};

use super::{binary_or_404, check_active, product_of};
use crate::api::{
    AddSignature, AuditAction, Binary, BinaryState, CreateSigningKey, OrgId, Page, SigningKey,
    SigningKeyId, validate,
};
use crate::server::auth::Principal;
use crate::server::domain::{Validator, audit, unique_or};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn, Pool};

/// Parses a public key given as base64 of its 32 bytes or as an SPKI PEM.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text)
            .map_err(|err| format!("not an Ed25519 public key PEM: {err}"));
    }
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| "expected base64 of a 32-byte Ed25519 public key, or a PEM".to_owned())?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("an Ed25519 public key has 32 bytes, not {}", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_owned())
}

async fn key_or_404(conn: &mut Conn, org_id: &OrgId, reference: &str) -> ApiResult<SigningKey> {
    fw::keys::get(conn, org_id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no signing key `{reference}`"))
                .with_hint("list keys with `fleet signing-key list`")
        })
}

/// Registers an Ed25519 public key (base64 or PEM) under a name unique in the organization.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    body: CreateSigningKey,
) -> ApiResult<SigningKey> {
    let mut v = Validator::default();
    v.check(
        "name",
        validate::name("signing key", SigningKeyId::PREFIX, &body.name),
    );
    let key = parse_public_key(&body.public_key);
    if let Err(message) = &key {
        v.check("public_key", Err(message.clone()));
    }
    v.finish()?;
    let public_key = key
        .map(|k| STANDARD.encode(k.as_bytes()))
        .unwrap_or_default();
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let duplicate = || {
        ApiError::conflict(format!(
            "a signing key named `{}` already exists",
            body.name
        ))
    };
    if fw::keys::get(&mut tx, org, &body.name).await?.is_some() {
        return Err(duplicate());
    }
    if let Some(existing) = fw::keys::by_public_key(&mut tx, org, &public_key).await? {
        return Err(ApiError::conflict(format!(
            "this public key is already registered as `{}`",
            existing.name
        )));
    }
    let id = SigningKeyId::generate();
    fw::keys::insert(&mut tx, org, &id, &body.name, &public_key, store::now())
        .await
        .map_err(|err| unique_or(err, duplicate))?;
    let key = key_or_404(&mut tx, org, id.as_str()).await?;
    record(&mut tx, principal, AuditAction::SigningKeyCreated, &key).await?;
    tx.commit().await?;
    Ok(key)
}

/// Signing keys are organization-wide: their events carry no product.
async fn record(
    conn: &mut Conn,
    principal: &Principal,
    action: AuditAction,
    key: &SigningKey,
) -> ApiResult<()> {
    let details = serde_json::json!({ "name": key.name, "fingerprint": key.fingerprint });
    audit::record_org_wide(conn, principal, action, key.id.as_str(), details).await
}

/// One page of the organization's signing keys.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<SigningKey>> {
    let page = PageRequest::new(limit, cursor, SigningKeyId::parse)?;
    let mut conn = pool.acquire().await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::keys::list(&mut conn, &principal.org_id, &bounds).await?;
    Ok(page.finish(rows, |k| k.id.as_str()))
}

/// The signing key `key` (name or ID).
pub async fn get(pool: &Pool, principal: &Principal, key: &str) -> ApiResult<SigningKey> {
    let mut conn = pool.acquire().await?;
    key_or_404(&mut conn, &principal.org_id, key).await
}

/// Deletes a signing key; the signatures made with it go too.
pub async fn delete(pool: &Pool, principal: &Principal, key: &str) -> ApiResult<()> {
    let mut tx = store::begin_write(pool).await?;
    let key = key_or_404(&mut tx, &principal.org_id, key).await?;
    fw::keys::delete(&mut tx, &key.id).await?;
    record(&mut tx, principal, AuditAction::SigningKeyDeleted, &key).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a signature to a ready binary of an active product: Ed25519 over the 32 raw bytes of
/// its SHA-256 digest, verified against the named key before it is stored (422 when it does
/// not verify). Returns the binary with its new signature.
pub async fn sign(
    pool: &Pool,
    principal: &Principal,
    binary: &str,
    body: AddSignature,
) -> ApiResult<Binary> {
    let signature = STANDARD
        .decode(body.signature.trim())
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "signature",
                "expected standard base64 of a 64-byte Ed25519 signature",
            )
        })?;
    let stored = binary_or_404(pool, principal, binary).await?;
    let b = &stored.binary;
    if b.state != BinaryState::Ready {
        return Err(ApiError::conflict(format!(
            "binary {} is still uploading; sign it once it is ready",
            b.id
        )));
    }
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    check_active(&product_of(&mut tx, principal, &stored).await?)?;
    let key = key_or_404(&mut tx, org, &body.key).await?;
    let verifying = parse_public_key(&key.public_key).map_err(|_| ApiError::internal())?;
    let digest = crate::api::firmware::digest_bytes(&b.sha256).ok_or_else(ApiError::internal)?;
    if verifying.verify_strict(&digest, &signature).is_err() {
        return Err(ApiError::invalid_field(
            "signature",
            format!(
                "the signature does not verify with key `{}` over SHA-256 {}; nothing was stored",
                key.name, b.sha256
            ),
        )
        .with_hint(
            "sign the binary's raw SHA-256 digest (32 bytes) with the matching private key",
        ));
    }
    let text = STANDARD.encode(signature.to_bytes());
    fw::binaries::add_signature(&mut tx, &b.id, &key.id, &text, store::now()).await?;
    let details = serde_json::json!({ "key": key.name, "key_id": key.id });
    audit::record(
        &mut tx,
        principal,
        AuditAction::BinarySigned,
        b.id.as_str(),
        &b.product_id,
        details,
    )
    .await?;
    let signed = fw::binaries::get(&mut tx, org, &b.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok(signed.binary)
}
