//! Firmware: artifacts, versions, binaries (parted upload, completion, download), signing keys
//! and signatures, bundles, releases and the product firmware policy, one file each. This
//! module owns the storage service (where binaries' blobs go, the part size of uploads, the
//! running digests of uploads in progress, how part objects are keyed; part of the shared
//! state) and the lookups every firmware file shares.
//!
//! Binaries are addressed by ID (`/v1/binaries/{binary}`), so the scope check that authz does
//! for `{product}` paths happens here: a binary outside a scoped key's products is a 404.

pub mod artifacts;
pub mod binaries;
pub mod bundles;
pub mod lifecycle;
pub mod policy;
pub mod releases;
pub mod rollout;
pub mod running;
pub mod signing;
pub mod upload;

use std::sync::Arc;
use std::time::Duration;

use super::audit;
use super::lookup::{archived, product_or_404};
use crate::api::{BinaryId, Product};
use crate::server::auth::Principal;
use crate::server::blobs::{BlobError, Blobs, ByteStream};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::firmware::binaries::{BlobLayout, Stored};
use crate::server::store::{self, Conn, Pool};

/// Most parts one binary may have (so a plan stays a reasonable JSON document).
pub const MAX_PARTS: u64 = 10_000;

/// The firmware part of `AppState`: where blobs go, how large upload parts are, and the
/// whole-file digests of uploads in progress.
#[derive(Debug)]
pub struct Firmware {
    pub blobs: Blobs,
    pub part_size: u64,
    pub running: Arc<running::RunningDigests>,
    /// Unfinished uploads idle for longer are abandoned by the sweep.
    pub upload_expiry: Duration,
}

impl Firmware {
    pub fn new(blobs: Blobs, part_size: u64) -> Self {
        Firmware {
            blobs,
            part_size: part_size.max(1),
            running: Arc::default(),
            upload_expiry: crate::server::DEFAULT_UPLOAD_EXPIRY,
        }
    }

    /// How a binary declared now is laid out: straight into the store's multipart upload when
    /// the store has one and the part size is at least its minimum part (S3: 5 MiB), else as
    /// separate part objects (local directories, and tiny test part sizes on S3).
    pub fn layout(&self) -> BlobLayout {
        match self.blobs.multipart_min_part() {
            Some(min) if self.part_size >= min => BlobLayout::Multipart,
            _ => BlobLayout::Parts,
        }
    }

    pub fn with_upload_expiry(mut self, expiry: Duration) -> Self {
        self.upload_expiry = expiry;
        self
    }

    /// Blobs in memory: the placeholder until the server opens its data dir's store.
    pub fn in_memory() -> Self {
        Self::new(Blobs::in_memory(), crate::server::DEFAULT_PART_SIZE_BYTES)
    }
}

/// Object key of part `number` of an upload, received as `tag` (its SHA-256, or for a part
/// checked by CRC32C a value unique to that receipt): a part sent again with other bytes gets
/// another key, so the bytes behind a recorded part never change under a reader.
pub fn part_key(prefix: &str, number: u64, tag: &str) -> String {
    format!("{prefix}/part-{number:06}-{tag}")
}

/// Object key of a multipart-layout binary's content, assembled on completion.
pub fn content_key(prefix: &str) -> String {
    format!("{prefix}/content")
}

/// Where data dirs written before part keys held digests keep a part.
pub fn legacy_part_key(prefix: &str, number: u64) -> String {
    format!("{prefix}/part-{number:06}")
}

/// The object of a recorded part (`tag`: [`crate::api::ReceivedPart::tag`]): under its key,
/// or its legacy key.
pub async fn read_part(
    blobs: &Blobs,
    prefix: &str,
    number: u64,
    tag: &str,
) -> Result<ByteStream, BlobError> {
    match blobs.read(&part_key(prefix, number, tag)).await {
        Err(BlobError::NotFound { .. }) => blobs.read(&legacy_part_key(prefix, number)).await,
        other => other,
    }
}

/// 404 for a binary; also what a scoped key gets for one outside its products.
fn unknown_binary(reference: &str) -> ApiError {
    ApiError::not_found(format!("no binary `{reference}`"))
        .with_hint("list binaries with `fleet firmware list`")
}

/// The binary `reference` as the caller may see it: 404 when missing or out of scope (and the
/// denial recorded). Uses a connection of its own (a denial is recorded in its own
/// transaction): call it before starting a write transaction, and re-read inside that.
async fn binary_or_404(pool: &Pool, principal: &Principal, reference: &str) -> ApiResult<Stored> {
    let id = BinaryId::parse(reference).ok_or_else(|| unknown_binary(reference))?;
    let mut conn = pool.acquire().await?;
    let stored = store::firmware::binaries::get(&mut conn, &principal.org_id, &id)
        .await?
        .ok_or_else(|| unknown_binary(reference))?;
    drop(conn);
    if !principal.sees(&stored.binary.product_id) {
        let details = serde_json::json!({ "status": 404, "reason": "scope", "binary": reference });
        let product = Some(&stored.binary.product_id);
        audit::record_denial(pool, principal, product, details).await;
        return Err(unknown_binary(reference));
    }
    Ok(stored)
}

/// 409 unless the product takes new firmware.
fn check_active(product: &Product) -> ApiResult<()> {
    if product.archived {
        return Err(archived(product, "firmware or releases"));
    }
    Ok(())
}

/// The product of a stored binary, for the archived check.
async fn product_of(conn: &mut Conn, principal: &Principal, stored: &Stored) -> ApiResult<Product> {
    product_or_404(conn, &principal.org_id, stored.binary.product_id.as_str()).await
}

/// A failing blob store: logged, and a 500 to the caller (507 when its disk is full).
fn blob_error(err: BlobError) -> ApiError {
    if crate::server::blobs::is_disk_full(&err) {
        tracing::error!(error = %err, "blob write failed: the disk is full");
        return ApiError::insufficient_storage();
    }
    tracing::error!(error = %err, "blob store error");
    ApiError::internal()
}
