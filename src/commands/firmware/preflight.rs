//! What `fleet firmware push` checks before it hashes or uploads anything: the signing key
//! files, the product, the `--release-to` cohort and the product's firmware policy. A push that
//! would fail at the end fails here instead, leaving nothing behind on the service.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt as _;

use super::local;
use crate::api::{BinaryListQuery, SigningKeyId};
use crate::client::ApiClient;
use crate::error::{Error, ErrorKind, Result};

/// A private key read from its file and found among the service's registered keys.
pub struct ReadyKey {
    pub key: ed25519_dalek::SigningKey,
    pub id: SigningKeyId,
}

/// What the push is about, as the user named it.
pub struct Plan<'a> {
    pub product: &'a str,
    pub artifact: &'a str,
    pub version: &'a str,
    pub target: &'a str,
    pub sign_keys: &'a [PathBuf],
    pub release_to: Option<&'a str>,
}

/// Runs every check that can fail without uploading; returns the signing keys, ready to sign.
pub async fn check(client: &ApiClient, plan: &Plan<'_>) -> Result<Vec<ReadyKey>> {
    // Local files first: no network needed to find a typo in a path.
    let loaded = plan
        .sign_keys
        .iter()
        .map(|path| Ok((path.clone(), local::load_private_key(path)?)))
        .collect::<Result<Vec<_>>>()?;
    client.products().get(plan.product).await?;
    if let Some(cohort) = plan.release_to {
        client
            .cohorts()
            .get(plan.product, cohort)
            .await
            .map_err(|err| match err.kind {
                ErrorKind::NotFound => err.only_hint(format!(
                    "see the cohorts with `fleet cohort list --product {}`; nothing was uploaded",
                    plan.product
                )),
                _ => err,
            })?;
    }
    let keys = registered(client, loaded).await?;
    if plan.release_to.is_some() && keys.is_empty() {
        check_unsigned_release_allowed(client, plan).await?;
    }
    Ok(keys)
}

async fn registered(
    client: &ApiClient,
    loaded: Vec<(PathBuf, ed25519_dalek::SigningKey)>,
) -> Result<Vec<ReadyKey>> {
    if loaded.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<_> = client.firmware().keys_up_to(None).try_collect().await?;
    loaded
        .into_iter()
        .map(|(path, key)| {
            let public = local::public_key_b64(&key);
            match known.iter().find(|k| k.public_key == public) {
                Some(found) => Ok(ReadyKey {
                    key,
                    id: found.id.clone(),
                }),
                None => Err(not_registered(&path)),
            }
        })
        .collect()
}

fn not_registered(path: &Path) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "the key in `{}` is not registered with the service",
            path.display()
        ),
    )
    .hint(format!(
        "register it with `fleet signing-key register NAME --key {}`",
        path.display()
    ))
}

/// A product that requires signed firmware refuses to release an unsigned binary; without
/// `--sign-key` that is known now, unless an earlier push already signed this binary.
async fn check_unsigned_release_allowed(client: &ApiClient, plan: &Plan<'_>) -> Result<()> {
    let policy = client.firmware().policy(plan.product).await?;
    if !policy.require_signed_firmware {
        return Ok(());
    }
    let query = BinaryListQuery {
        product: Some(plan.product.to_owned()),
        artifact: Some(plan.artifact.to_owned()),
        version: Some(plan.version.to_owned()),
        target: Some(plan.target.to_owned()),
        ..Default::default()
    };
    let already_signed = match client.firmware().binaries(&query).await {
        Ok(page) => page.data.iter().any(|b| !b.signatures.is_empty()),
        Err(err) if err.kind == ErrorKind::NotFound => false,
        Err(err) => return Err(err),
    };
    if already_signed {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Rejected,
        format!(
            "product `{}` requires signed firmware, and this push would release an unsigned binary",
            plan.product
        ),
    )
    .hint("pass --sign-key KEYFILE (a key registered with `fleet signing-key register`); nothing was uploaded"))
}
