//! Binaries: declaring an upload (size and SHA-256 of one target of a version), listing and
//! showing, received parts, completion (the whole digest verified over the stored parts, or
//! over the object the store's multipart upload assembled) and the byte stream of a download.

use futures_util::{StreamExt as _, TryStreamExt as _};
use sha2::{Digest as _, Sha256};

use super::artifacts::{artifact_or_404, version_or_404};
use super::running::Running;
use super::{
    Firmware, MAX_PARTS, binary_or_404, blob_error, check_active, content_key, lifecycle,
    product_of, read_part, unknown_binary,
};
use crate::api::firmware::validate_sha256;
use crate::api::{
    ArtifactId, AuditAction, Binary, BinaryId, BinaryListQuery, BinaryParts, BinaryState,
    BinaryUpload, CreateBinary, Page, PartTarget, ReceivedPart, validate,
};
use crate::server::auth::Principal;
use crate::server::blobs::ByteStream;
use crate::server::domain::lookup::{product_or_404, visible_product};
use crate::server::domain::{Validator, audit, unique_or};
use crate::server::error::{ApiError, ApiResult};
use crate::server::hex::hex;
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::binaries::{
    self as sql, BlobLayout, Stored, Upload, part_count,
};
use crate::server::store::firmware::digest_claims;
use crate::server::store::{self, Pool};

/// The upload plan of a binary: every part's URL (none once ready).
fn plan(binary: Binary) -> BinaryUpload {
    let id = binary.id.clone();
    let parts = if binary.state == BinaryState::Ready {
        Vec::new()
    } else {
        (1..=binary.part_count)
            .map(|number| {
                let offset = (number - 1) * binary.part_size;
                PartTarget {
                    number,
                    offset,
                    size: binary.part_size.min(binary.size - offset),
                    url: format!("/v1/binaries/{id}/parts/{number}"),
                }
            })
            .collect()
    };
    BinaryUpload {
        binary,
        parts,
        complete_url: format!("/v1/binaries/{id}/complete"),
    }
}

fn new_prefix(id: &BinaryId) -> String {
    format!("binaries/{id}/{}", uuid::Uuid::now_v7().simple())
}

/// A declared binary's upload plan, and whether the declaration created the binary (rather
/// than finding it ready, resuming it, or starting an unfinished upload over).
pub struct Declared {
    pub upload: BinaryUpload,
    pub created: bool,
}

/// Declares a binary (size and SHA-256) for one target of a version of an active product. The
/// same file again finds it (ready, or partly uploaded to resume); another file restarts an
/// unfinished upload; 409 for a ready binary with another digest (ready binaries are
/// immutable).
pub async fn declare(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    (product, artifact, version): (&str, &str, &str),
    body: CreateBinary,
) -> ApiResult<Declared> {
    let part_size = firmware.part_size;
    let mut v = Validator::default();
    v.check("target", validate::target(&body.target));
    if let Some(sha256) = &body.sha256 {
        v.check("sha256", validate_sha256(sha256));
    }
    if part_count(body.size, part_size) > MAX_PARTS {
        v.check(
            "size",
            Err(format!(
                "{} bytes is more than this service takes ({MAX_PARTS} parts of {part_size} bytes)",
                body.size
            )),
        );
    }
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    let artifact = artifact_or_404(&mut tx, &product, artifact).await?;
    let version = version_or_404(&mut tx, &artifact, version).await?;
    let existing = sql::get_for_target(&mut tx, &version.id, &body.target).await?;
    // Without a digest, a ready binary is the answer whatever its digest (the uploader compares),
    // and so is an unfinished upload of this size (the uploader compares each part).
    let same = |s: &Stored| match &body.sha256 {
        Some(sha256) => s.binary.sha256 == *sha256 && s.binary.size == body.size,
        None => s.binary.state == BinaryState::Ready || s.binary.size == body.size,
    };
    let declared = body.sha256.as_deref().unwrap_or_default();
    let (created, id, stale) = match existing {
        Some(s) if same(&s) => (false, s.binary.id, None),
        Some(s) if s.binary.state == BinaryState::Ready => {
            return Err(ApiError::conflict(format!(
                "{} {} already has a ready binary for target `{}` with SHA-256 {}; a ready \
                 binary is immutable",
                artifact.name, version.version, body.target, s.binary.sha256
            ))
            .with_hint("publish the new file as a new version"));
        }
        Some(s) => {
            let prefix = new_prefix(&s.binary.id);
            let upload = Upload {
                size: body.size,
                sha256: declared,
                part_size,
                blob_prefix: &prefix,
                layout: firmware.layout(),
            };
            sql::restart(&mut tx, &s.binary.id, &upload, store::now()).await?;
            let details = serde_json::json!({
                "previous_sha256": s.binary.sha256, "sha256": body.sha256, "size": body.size,
            });
            let (bid, pid) = (s.binary.id.as_str(), &product.id);
            audit::record(
                &mut tx,
                principal,
                AuditAction::BinaryRestarted,
                bid,
                pid,
                details,
            )
            .await?;
            (false, s.binary.id.clone(), Some(s))
        }
        None => {
            let id = BinaryId::generate();
            let prefix = new_prefix(&id);
            let upload = Upload {
                size: body.size,
                sha256: declared,
                part_size,
                blob_prefix: &prefix,
                layout: firmware.layout(),
            };
            sql::insert(
                &mut tx,
                org,
                &id,
                &version,
                &body.target,
                &upload,
                store::now(),
            )
            .await
            .map_err(|err| {
                unique_or(err, || {
                    ApiError::conflict("another upload of this binary started just now")
                        .with_hint("retry")
                })
            })?;
            let details = serde_json::json!({
                "artifact": artifact.name, "version": version.version, "target": body.target,
                "size": body.size, "sha256": body.sha256,
            });
            audit::record(
                &mut tx,
                principal,
                AuditAction::BinaryCreated,
                id.as_str(),
                &product.id,
                details,
            )
            .await?;
            (true, id, None)
        }
    };
    let stored = sql::get(&mut tx, org, &id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    if let Some(stale) = stale {
        lifecycle::discard(firmware, &stale).await;
    }
    Ok(Declared {
        upload: plan(stored.binary),
        created,
    })
}

/// One page of the binaries the caller sees, filtered by product, artifact, version, target
/// and state.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    query: &BinaryListQuery,
) -> ApiResult<Page<Binary>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), BinaryId::parse)?;
    let org = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = match &query.product {
        Some(reference) => Some(visible_product(&mut conn, principal, reference).await?),
        None => None,
    };
    let artifact_id = match (&query.artifact, &product) {
        (Some(reference), Some(product)) => {
            Some(artifact_or_404(&mut conn, product, reference).await?.id)
        }
        (Some(reference), None) => Some(ArtifactId::parse(reference).ok_or_else(|| {
            ApiError::bad_request("an artifact name needs `product` too; or pass the artifact's ID")
        })?),
        (None, _) => None,
    };
    let filter = sql::ListFilter {
        product_id: product.as_ref().map(|p| &p.id),
        artifact_id: artifact_id.as_ref(),
        version: query.version.as_deref(),
        target: query.target.as_deref(),
        state: query.state,
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = sql::list_within(&mut conn, org, &filter, principal.scope()).await?;
    Ok(page.finish(rows, |b| b.id.as_str()))
}

/// The binary `binary` (an ID), if the caller sees it.
pub async fn get(pool: &Pool, principal: &Principal, binary: &str) -> ApiResult<Binary> {
    Ok(binary_or_404(pool, principal, binary).await?.binary)
}

/// The parts the service holds for a binary, to resume an upload.
pub async fn parts(pool: &Pool, principal: &Principal, binary: &str) -> ApiResult<BinaryParts> {
    let stored = binary_or_404(pool, principal, binary).await?;
    let mut conn = pool.acquire().await?;
    let received = sql::parts(&mut conn, &stored.binary.id).await?;
    Ok(BinaryParts {
        binary_id: stored.binary.id,
        state: stored.binary.state,
        part_size: stored.binary.part_size,
        part_count: stored.binary.part_count,
        received,
    })
}

/// Finishes an upload: every part must be there and the SHA-256 over all of them must be
/// `named` (the uploader's, on completion), else the one declared with the upload; only then
/// is the binary ready. A ready binary is returned as it is (409 if `named` is another digest).
pub async fn complete(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    binary: &str,
    named: Option<&str>,
) -> ApiResult<Binary> {
    if let Some(sha256) = named {
        let mut v = Validator::default();
        v.check("sha256", validate_sha256(sha256));
        v.finish()?;
    }
    let stored = binary_or_404(pool, principal, binary).await?;
    if stored.binary.state == BinaryState::Ready {
        return match named {
            Some(sha256) if sha256 != stored.binary.sha256 => Err(ApiError::conflict(format!(
                "binary {} is ready with SHA-256 {}, not {sha256}; a ready binary is immutable",
                stored.binary.id, stored.binary.sha256
            ))
            .with_hint("publish the new file as a new version")),
            _ => Ok(stored.binary),
        };
    }
    let expected = match named {
        Some(sha256) => sha256.to_owned(),
        None if !stored.binary.sha256.is_empty() => stored.binary.sha256.clone(),
        None => {
            return Err(ApiError::invalid_field(
                "sha256",
                format!(
                    "binary {} was declared without its SHA-256: name it on completion",
                    stored.binary.id
                ),
            )
            .with_hint("send {\"sha256\": \"<lowercase hex SHA-256 of the whole file>\"}"));
        }
    };
    let received = {
        let mut conn = pool.acquire().await?;
        check_active(&product_of(&mut conn, principal, &stored).await?)?;
        sql::parts(&mut conn, &stored.binary.id).await?
    };
    let b = &stored.binary;
    let missing: Vec<u64> = (1..=b.part_count)
        .filter(|n| !received.iter().any(|p| p.number == *n))
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(20).map(u64::to_string).collect();
        return Err(ApiError::conflict(format!(
            "binary {} is missing {} of {} parts ({}{})",
            b.id,
            missing.len(),
            b.part_count,
            shown.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        ))
        .with_hint("upload them (GET …/parts lists what arrived), then complete again"));
    }
    let parts = (&received[..], expected.as_str());
    match stored.layout {
        BlobLayout::Parts => complete_parts(pool, firmware, principal, &stored, parts).await,
        BlobLayout::Multipart => {
            complete_assembled(pool, firmware, principal, &stored, parts).await
        }
    }
}

/// Completes a 'parts' upload: the digest over the stored parts `received` (the running
/// digest's share where this replica has one) must be `expected`, then ready.
async fn complete_parts(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    stored: &Stored,
    (received, expected): (&[ReceivedPart], &str),
) -> ApiResult<Binary> {
    let b = &stored.binary;
    // Hold the running digest (waiting for a part being hashed now) until this is decided.
    let running = firmware.running.lock(&b.id).await;
    let (digest, size) = digest_of(firmware, stored, received, running.as_deref()).await?;
    check_digest(b, expected, (&digest, size), false)?;
    let ready = mark_ready(pool, principal, stored, expected, Some(received)).await?;
    firmware.running.remove(&b.id);
    drop(running);
    remove_unreferenced(firmware, stored, received).await;
    Ok(ready)
}

/// Completes a 'multipart' upload: the store assembles the recorded parts into the content
/// object, which is read once to verify the whole digest. The store's upload is used up by
/// then, so the binary either becomes ready or its upload starts over (parts discarded). An
/// upload another request (or a replica that died) already assembled is verified the same way.
async fn complete_assembled(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    stored: &Stored,
    (received, expected): (&[ReceivedPart], &str),
) -> ApiResult<Binary> {
    let b = &stored.binary;
    let key = content_key(&stored.blob_prefix);
    let blobs = &firmware.blobs;
    // The digest of the parts as this replica received them, when it covers every part this
    // call assembled: then the object need not be read back.
    let mut assembled_digest = None;
    match (&stored.multipart_upload_id, received.is_empty()) {
        (Some(upload_id), false) => {
            let parts = {
                let mut conn = pool.acquire().await?;
                sql::part_etags(&mut conn, &b.id).await?
            };
            let (tags, etags): (Vec<String>, Vec<Option<String>>) = parts.into_iter().unzip();
            let etags: Option<Vec<String>> = etags.into_iter().collect();
            let etags = etags.ok_or_else(part_changed)?;
            match blobs.complete_upload(&key, upload_id, etags).await {
                // Assembled by this call from exactly the parts of `tags` (the store refuses
                // ETags that are not its parts'), so their digest is the object's.
                Ok(()) => {
                    let running = &firmware.running;
                    assembled_digest = running.whole(&b.id, &stored.blob_prefix, &tags).await;
                }
                // Assembled already, by a concurrent complete or one that died, maybe from
                // other parts: read it.
                Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(blob_error(err)),
            }
        }
        // An empty file has no parts to assemble.
        (_, true) => {
            let writer = blobs.writer(&key).await.map_err(blob_error)?;
            writer.finish().await.map_err(blob_error)?;
        }
        (None, false) => return Err(part_changed()),
    }
    let hashed = match assembled_digest {
        Some(known) => {
            tracing::debug!(id = %b.id, "verified from the parts as received");
            Ok(known)
        }
        None => {
            tracing::debug!(id = %b.id, "reading the assembled object back to verify it");
            hash_object(firmware, &key).await
        }
    };
    let verified = match hashed {
        Ok((digest, size)) => check_digest(b, expected, (&digest, size), true),
        Err(object_store::Error::NotFound { .. }) => Err(ApiError::conflict(format!(
            "the store no longer holds the upload of binary {}; its parts were discarded",
            b.id
        ))
        .with_hint("push it again")),
        Err(err) => Err(blob_error(err)),
    };
    match verified {
        Ok(()) => {
            let ready = mark_ready(pool, principal, stored, expected, None).await;
            firmware.running.remove(&b.id);
            ready
        }
        Err(err) => {
            start_over(pool, firmware, principal, stored).await?;
            Err(err)
        }
    }
}

/// 422 unless the content (`digest`, `size`) has the `expected` digest and the declared size.
fn check_digest(
    b: &Binary,
    expected: &str,
    (digest, size): (&str, u64),
    discarded: bool,
) -> ApiResult<()> {
    if digest == expected && size == b.size {
        return Ok(());
    }
    let discarded = if discarded {
        " and its parts were discarded"
    } else {
        ""
    };
    Err(ApiError::invalid_field(
        "sha256",
        format!(
            "the uploaded parts have SHA-256 {digest} ({size} bytes), not the declared {expected} \
             ({} bytes); the binary stays incomplete{discarded}",
            b.size
        ),
    )
    .with_hint(
        "the file changed during the upload, or the declared digest is wrong: push it again",
    ))
}

/// Marks the upload under `stored`'s prefix ready with SHA-256 `sha256` (with the audit
/// event), unless it was started over meanwhile or, given `parts`, a part was sent again;
/// returns the binary.
async fn mark_ready(
    pool: &Pool,
    principal: &Principal,
    stored: &Stored,
    sha256: &str,
    parts: Option<&[ReceivedPart]>,
) -> ApiResult<Binary> {
    let b = &stored.binary;
    let mut tx = store::begin_write(pool).await?;
    let current = sql::get(&mut tx, &principal.org_id, &b.id)
        .await?
        .ok_or_else(|| unknown_binary(b.id.as_str()))?;
    if current.blob_prefix != stored.blob_prefix {
        return Err(part_changed());
    }
    if let Some(parts) = parts {
        if sql::parts(&mut tx, &b.id).await? != parts {
            return Err(part_changed());
        }
    }
    if current.binary.state != BinaryState::Ready {
        sql::mark_ready(&mut tx, &b.id, sha256, store::now()).await?;
        digest_claims::release(&mut tx, &b.id).await?;
        let details = serde_json::json!({ "sha256": sha256, "size": b.size });
        audit::record(
            &mut tx,
            principal,
            AuditAction::BinaryReady,
            b.id.as_str(),
            &b.product_id,
            details,
        )
        .await?;
    }
    let ready = sql::get(&mut tx, &principal.org_id, &b.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok(ready.binary)
}

/// Starts a used-up multipart upload over under a new prefix (same declared file, no parts),
/// unless it changed meanwhile; the assembled object goes with the old prefix.
async fn start_over(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    stored: &Stored,
) -> ApiResult<()> {
    let b = &stored.binary;
    let mut tx = store::begin_write(pool).await?;
    let current = sql::get(&mut tx, &principal.org_id, &b.id).await?;
    let Some(current) = current.filter(|c| {
        c.blob_prefix == stored.blob_prefix && c.binary.state == BinaryState::Uploading
    }) else {
        return Ok(());
    };
    let prefix = new_prefix(&b.id);
    let upload = Upload {
        size: current.binary.size,
        sha256: &current.binary.sha256,
        part_size: current.binary.part_size,
        blob_prefix: &prefix,
        layout: firmware.layout(),
    };
    sql::restart(&mut tx, &b.id, &upload, store::now()).await?;
    let details = serde_json::json!({
        "previous_sha256": b.sha256, "sha256": b.sha256, "size": b.size,
        "reason": "the assembled upload did not verify",
    });
    let action = AuditAction::BinaryRestarted;
    audit::record(
        &mut tx,
        principal,
        action,
        b.id.as_str(),
        &b.product_id,
        details,
    )
    .await?;
    tx.commit().await?;
    lifecycle::discard(firmware, stored).await;
    Ok(())
}

/// SHA-256 (hex) and length of the object under `key`.
async fn hash_object(firmware: &Firmware, key: &str) -> Result<(String, u64), object_store::Error> {
    let mut stream = firmware.blobs.read(key).await?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((hex(&hasher.finalize()), size))
}

fn part_changed() -> ApiError {
    ApiError::conflict("the upload was started over, or a part was sent again, while completing")
        .with_hint("complete again (or push again)")
}

/// SHA-256 (hex) and length of the stored parts `received` (all of them, in order): the
/// running digest's share if it agrees with them, plus the rest read from the store.
async fn digest_of(
    firmware: &Firmware,
    stored: &Stored,
    received: &[ReceivedPart],
    running: Option<&Running>,
) -> ApiResult<(String, u64)> {
    let tags: Vec<String> = received.iter().map(|p| p.tag.clone()).collect();
    let (mut hasher, mut size, done) = running
        .and_then(|r| r.usable_for(&stored.blob_prefix, &tags))
        .unwrap_or_else(|| (Sha256::new(), 0, 0));
    for part in &received[done..] {
        let read = read_part(&firmware.blobs, &stored.blob_prefix, part.number, &part.tag);
        let mut stream = match read.await {
            Err(object_store::Error::NotFound { .. }) => return Err(part_changed()),
            other => other.map_err(blob_error)?,
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(blob_error)?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Best effort: deletes the objects of parts that were replaced by others and writes left
/// unfinished (garbage, not a fault if it lingers: the sweep collects it). Runs once the
/// binary is ready, when no part can be recorded any more.
async fn remove_unreferenced(firmware: &Firmware, stored: &Stored, parts: &[ReceivedPart]) {
    let prefix = &stored.blob_prefix;
    let blobs = &firmware.blobs;
    if let Err(err) = lifecycle::remove_unreferenced(blobs, prefix, stored.layout, parts).await {
        tracing::warn!(error = %err, prefix, "could not delete replaced parts");
    }
}

/// A ready binary and its bytes, streamed part by part from the blob store (never whole in
/// memory); 409 while it is still uploading.
pub async fn download(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    binary: &str,
) -> ApiResult<(Binary, ByteStream)> {
    let stored = binary_or_404(pool, principal, binary).await?;
    let b = &stored.binary;
    if b.state != BinaryState::Ready {
        return Err(ApiError::conflict(format!(
            "binary {} is still uploading; only ready binaries can be downloaded",
            b.id
        )));
    }
    if stored.layout == BlobLayout::Multipart {
        let key = content_key(&stored.blob_prefix);
        let body = firmware.blobs.read(&key).await.map_err(blob_error)?;
        return Ok((stored.binary, body));
    }
    let parts = {
        let mut conn = pool.acquire().await?;
        sql::parts(&mut conn, &b.id).await?
    };
    let blobs = firmware.blobs.clone();
    let prefix = stored.blob_prefix.clone();
    let body = futures_util::stream::iter(parts)
        .then(move |part| {
            let (blobs, prefix) = (blobs.clone(), prefix.clone());
            async move { read_part(&blobs, &prefix, part.number, &part.tag).await }
        })
        .try_flatten()
        .boxed();
    Ok((stored.binary, body))
}
