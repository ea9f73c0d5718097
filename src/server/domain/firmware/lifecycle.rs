//! The end of a binary's blobs: abandoning an unfinished upload (by a caller, or by the service
//! once nobody touched it for the upload expiry), collecting part objects nothing refers to,
//! and freeing a deleted product's blobs.
//!
//! The rule throughout: rows go first, in a committed transaction, and blobs after. A blob
//! delete that fails leaves garbage the next sweep collects; never a row naming a missing blob.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Firmware, binary_or_404, content_key, legacy_part_key, part_key, unknown_binary};
use crate::api::{AuditAction, Binary, BinaryId, BinaryState, ReceivedPart};
use crate::server::auth::Principal;
use crate::server::blobs::{BlobError, Blobs};
use crate::server::domain::audit;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::events::{Actor, AuditEvent};
use crate::server::store::firmware::binaries::{self as sql, BlobLayout, StaleUpload, Stored};
use crate::server::store::{self, Pool};

/// Where every binary's blobs live: `binaries/<binary id>/<upload prefix>/…`.
const BINARIES_PREFIX: &str = "binaries";
/// Stale uploads one sweep expires at most (the next sweep takes the rest).
const EXPIRE_PER_SWEEP: u32 = 1000;

fn immutable(binary: &Binary) -> ApiError {
    ApiError::conflict(format!(
        "binary {} is ready and immutable; only an unfinished upload can be abandoned",
        binary.id
    ))
    .with_hint(
        "bundles, releases and devices may rely on a ready binary: to stop rolling it out, \
         release another bundle; to publish another file, push it as a new version",
    )
}

/// Gives up the unfinished upload `binary` (an ID): its row, received parts and part objects
/// go. 409 for a ready binary. Returns the binary as it was.
pub async fn abandon(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    binary: &str,
) -> ApiResult<Binary> {
    let stored = binary_or_404(pool, principal, binary).await?;
    if stored.binary.state == BinaryState::Ready {
        return Err(immutable(&stored.binary));
    }
    let mut tx = store::begin_write(pool).await?;
    let current = sql::get(&mut tx, &principal.org_id, &stored.binary.id)
        .await?
        .ok_or_else(|| unknown_binary(binary))?;
    if current.binary.state == BinaryState::Ready {
        return Err(immutable(&current.binary));
    }
    let received = sql::parts(&mut tx, &current.binary.id).await?;
    if !sql::delete_unfinished(&mut tx, &current.binary.id, None).await? {
        return Err(ApiError::internal());
    }
    let b = &current.binary;
    let mut details = facts(&current, &received);
    details["reason"] = "abandoned".into();
    let action = AuditAction::BinaryAbandoned;
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
    forget(firmware, &current).await;
    Ok(current.binary)
}

/// What an abandoned upload was, for its audit event.
fn facts(stored: &Stored, received: &[ReceivedPart]) -> serde_json::Value {
    let b = &stored.binary;
    serde_json::json!({
        "artifact": b.artifact, "version": b.version, "target": b.target, "size": b.size,
        "sha256": b.sha256, "parts_received": received.len(), "part_count": b.part_count,
    })
}

/// After the row is gone: drops the running digest and discards the blobs.
async fn forget(firmware: &Firmware, stored: &Stored) {
    firmware.running.remove(&stored.binary.id);
    discard(firmware, stored).await;
}

/// Discards the blobs of an upload no row refers to any more (abandoned, expired, or started
/// over under a new prefix): its store multipart upload and every object under its prefix.
/// Best effort: part objects left behind are collected by the sweep; a multipart upload left
/// behind, by the bucket's lifecycle rule for incomplete multipart uploads.
pub async fn discard(firmware: &Firmware, stored: &Stored) {
    let prefix = &stored.blob_prefix;
    if let Some(upload_id) = &stored.multipart_upload_id {
        let key = content_key(prefix);
        if let Err(err) = firmware.blobs.abort_upload(&key, upload_id).await {
            // Already completed or aborted (NotFound) is the usual case after a completion.
            tracing::debug!(error = %err, prefix, "could not abort a multipart upload");
        }
    }
    if let Err(err) = firmware.blobs.delete_prefix(prefix).await {
        tracing::warn!(error = %err, prefix, "could not delete an abandoned upload's parts");
    }
}

/// Deletes the blobs of a deleted product's binaries (their prefixes, read before the delete
/// committed). Best effort: what stays is collected by the sweep, the rows being gone.
pub async fn free_prefixes(blobs: &Blobs, prefixes: &[String]) {
    for prefix in prefixes {
        if let Err(err) = blobs.delete_prefix(prefix).await {
            tracing::warn!(error = %err, prefix, "could not delete a deleted binary's parts");
        }
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Unfinished uploads abandoned for being idle longer than the expiry.
    pub expired: usize,
    /// Upload prefixes deleted whole: their binary is gone or was started over.
    pub prefixes_removed: usize,
    /// Objects deleted under ready binaries: replaced parts and writes a crash left unfinished.
    pub objects_removed: usize,
}

/// The service's housekeeping at time `now`: abandons unfinished uploads idle for longer than
/// `expiry`, then deletes part objects nothing refers to. Safe to run at any time and in any
/// number of replicas: each step re-checks under the database's lock or touches only blobs
/// no row can refer to again.
pub async fn sweep(
    pool: &Pool,
    firmware: &Firmware,
    now: DateTime<Utc>,
    expiry: Duration,
) -> ApiResult<SweepReport> {
    let mut report = SweepReport::default();
    let expiry = chrono::Duration::from_std(expiry).unwrap_or(chrono::Duration::MAX);
    if let Some(cutoff) = now.checked_sub_signed(expiry) {
        report.expired = expire(pool, firmware, cutoff, expiry).await?;
    }
    collect_orphans(pool, &firmware.blobs, &mut report).await?;
    Ok(report)
}

/// Abandons the uploads idle since before `cutoff`; how many.
async fn expire(
    pool: &Pool,
    firmware: &Firmware,
    cutoff: DateTime<Utc>,
    expiry: chrono::Duration,
) -> ApiResult<usize> {
    let stale = {
        let mut conn = pool.acquire().await?;
        sql::stale_uploads(&mut conn, cutoff, EXPIRE_PER_SWEEP).await?
    };
    let mut expired = 0;
    for upload in stale {
        if expire_one(pool, &upload, cutoff, expiry).await? {
            forget(firmware, &upload.stored).await;
            expired += 1;
        }
    }
    Ok(expired)
}

/// Deletes one stale upload unless it saw activity or completed since it was listed.
async fn expire_one(
    pool: &Pool,
    upload: &StaleUpload,
    cutoff: DateTime<Utc>,
    expiry: chrono::Duration,
) -> ApiResult<bool> {
    let b = &upload.stored.binary;
    let mut tx = store::begin_write(pool).await?;
    let received = sql::parts(&mut tx, &b.id).await?;
    if !sql::delete_unfinished(&mut tx, &b.id, Some(cutoff)).await? {
        return Ok(false);
    }
    let mut details = facts(&upload.stored, &received);
    details["reason"] = "expired".into();
    details["idle_since"] = upload.active_at.to_rfc3339().into();
    details["expiry_seconds"] = expiry.num_seconds().into();
    AuditEvent::new(
        &upload.org_id,
        Actor::default(),
        AuditAction::BinaryAbandoned,
        details,
    )
    .resource(b.id.as_str())
    .product(Some(&b.product_id))
    .record(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Walks every upload prefix in the blob store and deletes what no row refers to: prefixes of
/// binaries that are gone or were started over, and stray objects under ready binaries.
/// Prefixes of unfinished uploads are left alone: their writes may be running.
async fn collect_orphans(pool: &Pool, blobs: &Blobs, report: &mut SweepReport) -> ApiResult<()> {
    for binary_dir in blobs.children(BINARIES_PREFIX).await.map_err(gc_error)? {
        let Some(id) = binary_dir.rsplit('/').next().and_then(BinaryId::parse) else {
            continue; // Not ours: leave it.
        };
        for prefix in blobs.children(&binary_dir).await.map_err(gc_error)? {
            // A prefix appears only after its row committed, and a row never takes an old
            // prefix back: a missing row or another prefix means nothing will read it again.
            let (row, parts) = {
                let mut conn = pool.acquire().await?;
                let row = sql::state_and_prefix(&mut conn, &id).await?;
                let parts = match &row {
                    Some((BinaryState::Ready, current, _)) if *current == prefix => {
                        sql::parts(&mut conn, &id).await?
                    }
                    _ => Vec::new(),
                };
                (row, parts)
            };
            match row {
                Some((BinaryState::Uploading, current, _)) if current == prefix => {}
                Some((BinaryState::Ready, current, layout)) if current == prefix => {
                    report.objects_removed += remove_unreferenced(blobs, &prefix, layout, &parts)
                        .await
                        .map_err(gc_error)?;
                }
                _ => {
                    blobs.delete_prefix(&prefix).await.map_err(gc_error)?;
                    report.prefixes_removed += 1;
                }
            }
        }
    }
    Ok(())
}

fn gc_error(err: BlobError) -> ApiError {
    tracing::warn!(error = %err, "could not collect orphaned firmware parts");
    ApiError::internal()
}

/// Deletes the objects under a ready binary's `prefix` that are not its content (its `parts`,
/// or the assembled object of a multipart upload): parts sent again with other bytes and the
/// writes left unfinished there (a crash, or a part that arrived after completion). Nothing
/// can be recorded for a ready binary any more, so nothing deleted here is wanted. How many
/// objects went.
pub async fn remove_unreferenced(
    blobs: &Blobs,
    prefix: &str,
    layout: BlobLayout,
    parts: &[ReceivedPart],
) -> Result<usize, BlobError> {
    let keep: HashSet<String> = match layout {
        BlobLayout::Multipart => HashSet::from([content_key(prefix)]),
        BlobLayout::Parts => parts
            .iter()
            .flat_map(|p| {
                let legacy = legacy_part_key(prefix, p.number);
                [part_key(prefix, p.number, &p.tag), legacy]
            })
            .collect(),
    };
    let stale: Vec<String> = blobs
        .keys(prefix)
        .await?
        .into_iter()
        .filter(|key| !keep.contains(key))
        .collect();
    let mut removed = stale.len();
    if !stale.is_empty() {
        blobs.delete_keys(stale).await?;
    }
    removed += blobs.delete_unfinished(prefix).await?;
    Ok(removed)
}
