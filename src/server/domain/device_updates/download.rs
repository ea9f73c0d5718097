//! Downloads of offered binaries on the device API: a binary is served only while it is part
//! of the update this device is offered now (the same rules as its check-in, with what runs
//! as last stored), whole or as one byte range (a resumed download).

use std::ops::Range;

use futures_util::{StreamExt as _, TryStreamExt as _};

use super::{DeviceUpdates, offer};
use crate::api::{BinaryId, ReceivedPart};
use crate::server::blobs::{BlobError, Blobs, ByteStream};
use crate::server::device_api::principal::DevicePrincipal;
use crate::server::domain::firmware::{Firmware, content_key, legacy_part_key, part_key};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::firmware::binaries::{self, BlobLayout, Stored};
use crate::server::store::{LazyConn, Pool, device_offers, device_status};

fn not_offered(binary: &str) -> ApiError {
    ApiError::not_found(format!(
        "binary `{binary}` is not part of an update offered to this device"
    ))
    .with_hint("check in again and download the binaries its answer lists")
}

/// The binary `binary` if it is in the update offered to `device` right now; 404 otherwise.
pub async fn offered(
    pool: &Pool,
    updates: &DeviceUpdates,
    device: &DevicePrincipal,
    binary: &str,
) -> ApiResult<Stored> {
    let id = BinaryId::parse(binary).ok_or_else(|| not_offered(binary))?;
    let mut conn = pool.acquire().await?;
    let context = device_offers::context(&mut conn, &device.device_id)
        .await?
        .ok_or_else(|| not_offered(binary))?;
    let running = device_status::running(&mut conn, &device.device_id).await?;
    let offered = offer::offered_binaries(
        &mut LazyConn::held(&mut conn),
        &updates.bundles,
        &device.device_id,
        &device.product_id,
        &context,
        offer::target_of(&context, None),
        &running,
    )
    .await?;
    let Some((_, list)) = offered else {
        return Err(not_offered(binary));
    };
    if !list.iter().any(|b| b.binary_id == id) {
        return Err(not_offered(binary));
    }
    binaries::get(&mut conn, &device.org_id, &id)
        .await?
        .filter(|stored| stored.binary.product_id == device.product_id)
        .ok_or_else(|| not_offered(binary))
}

/// The bytes `range` of a ready binary (`None`: all of it), streamed from the blob store.
/// `range` must lie within the binary and not be empty.
pub async fn bytes(
    pool: &Pool,
    firmware: &Firmware,
    stored: &Stored,
    range: Option<Range<u64>>,
) -> ApiResult<ByteStream> {
    let size = stored.binary.size;
    let range = range.unwrap_or(0..size);
    if range.is_empty() {
        return Ok(futures_util::stream::empty().boxed());
    }
    let blobs = firmware.blobs.clone();
    if stored.layout == BlobLayout::Multipart {
        let key = content_key(&stored.blob_prefix);
        return blobs.read_range(&key, range).await.map_err(blob_error);
    }
    let parts = {
        let mut conn = pool.acquire().await?;
        binaries::parts(&mut conn, &stored.binary.id).await?
    };
    let pieces = pieces(&parts, range);
    let prefix = stored.blob_prefix.clone();
    Ok(futures_util::stream::iter(pieces)
        .then(move |(part, within)| {
            let (blobs, prefix) = (blobs.clone(), prefix.clone());
            async move { read_part_range(&blobs, &prefix, &part, within).await }
        })
        .try_flatten()
        .boxed())
}

/// The parts `range` of the whole file touches, each with the range inside that part.
fn pieces(parts: &[ReceivedPart], range: Range<u64>) -> Vec<(ReceivedPart, Range<u64>)> {
    let mut start = 0u64;
    let mut out = Vec::new();
    for part in parts {
        let end = start + part.size;
        let from = range.start.max(start);
        let to = range.end.min(end);
        if from < to {
            out.push((part.clone(), from - start..to - start));
        }
        start = end;
    }
    out
}

/// Bytes `within` of one recorded part, under its key or its legacy key.
async fn read_part_range(
    blobs: &Blobs,
    prefix: &str,
    part: &ReceivedPart,
    within: Range<u64>,
) -> Result<ByteStream, BlobError> {
    let key = part_key(prefix, part.number, &part.tag);
    match blobs.read_range(&key, within.clone()).await {
        Err(BlobError::NotFound { .. }) => {
            blobs
                .read_range(&legacy_part_key(prefix, part.number), within)
                .await
        }
        other => other,
    }
}

fn blob_error(err: BlobError) -> ApiError {
    tracing::error!(error = %err, "blob store error on a device download");
    ApiError::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u64, size: u64) -> ReceivedPart {
        ReceivedPart {
            number,
            size,
            sha256: Some(format!("{number}")),
            crc32c: None,
            tag: format!("{number}"),
        }
    }

    #[test]
    fn a_range_maps_onto_the_parts_it_touches() {
        let parts = [part(1, 4), part(2, 4), part(3, 2)];
        let got: Vec<(u64, Range<u64>)> = pieces(&parts, 3..9)
            .into_iter()
            .map(|(p, r)| (p.number, r))
            .collect();
        assert_eq!(got, [(1, 3..4), (2, 0..4), (3, 0..1)]);
        let tail: Vec<u64> = pieces(&parts, 8..10)
            .iter()
            .map(|(p, _)| p.number)
            .collect();
        assert_eq!(tail, [3]);
    }
}
