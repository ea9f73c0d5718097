//! Firmware: artifacts, versions, bundles, releases and the product firmware policy, one file
//! each (the rules of binaries, uploads and signing keys are still in `handlers::firmware`).
//! This module owns the storage service (where binaries' blobs go, the part size of uploads,
//! the running digests of uploads in progress, how part objects are keyed; part of the shared
//! state) and the checks every firmware file shares.

pub mod artifacts;
pub mod bundles;
pub mod policy;
pub mod releases;
pub mod running;

use std::sync::Arc;

use super::lookup::archived;
use crate::api::Product;
use crate::server::blobs::{BlobError, Blobs, ByteStream};
use crate::server::error::ApiResult;

/// Most parts one binary may have (so a plan stays a reasonable JSON document).
pub const MAX_PARTS: u64 = 10_000;

/// The firmware part of `AppState`: where blobs go, how large upload parts are, and the
/// whole-file digests of uploads in progress.
#[derive(Debug)]
pub struct Firmware {
    pub blobs: Blobs,
    pub part_size: u64,
    pub running: Arc<running::RunningDigests>,
}

impl Firmware {
    pub fn new(blobs: Blobs, part_size: u64) -> Self {
        Firmware {
            blobs,
            part_size: part_size.max(1),
            running: Arc::default(),
        }
    }

    /// Blobs in memory: the placeholder until the server opens its data dir's store.
    pub fn in_memory() -> Self {
        Self::new(Blobs::in_memory(), crate::server::DEFAULT_PART_SIZE_BYTES)
    }
}

/// Object key of part `number` of an upload, holding `sha256`: a part sent again with other
/// bytes gets another key, so the bytes behind a recorded part never change under a reader.
pub fn part_key(prefix: &str, number: u64, sha256: &str) -> String {
    format!("{prefix}/part-{number:06}-{sha256}")
}

/// Where data dirs written before part keys held digests keep a part.
pub fn legacy_part_key(prefix: &str, number: u64) -> String {
    format!("{prefix}/part-{number:06}")
}

/// The object of a recorded part: under its content-addressed key, or its legacy key.
pub async fn read_part(
    blobs: &Blobs,
    prefix: &str,
    number: u64,
    sha256: &str,
) -> Result<ByteStream, BlobError> {
    match blobs.read(&part_key(prefix, number, sha256)).await {
        Err(BlobError::NotFound { .. }) => blobs.read(&legacy_part_key(prefix, number)).await,
        other => other,
    }
}

/// 409 unless the product takes new firmware.
fn check_active(product: &Product) -> ApiResult<()> {
    if product.archived {
        return Err(archived(product, "firmware or releases"));
    }
    Ok(())
}
