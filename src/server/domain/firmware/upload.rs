//! Part uploads: one part, hashed and written to its object while it arrives (a few chunks in
//! memory), kept only when its length and SHA-256 are the expected ones; then the upload's
//! running whole-file digest moves on in the background.

use std::fmt::Display;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use sha2::{Digest as _, Sha256};

use super::{
    Firmware, binary_or_404, blob_error, check_active, part_key, product_of, unknown_binary,
};
use crate::api::firmware::PART_SHA256_HEADER;
use crate::api::{AuditAction, BinaryState, ReceivedPart};
use crate::server::auth::Principal;
use crate::server::blobs::BlobWriter;
use crate::server::domain::audit;
use crate::server::error::{ApiError, ApiResult};
use crate::server::hex::hex;
use crate::server::store::firmware::binaries::{self as sql, Stored};
use crate::server::store::{self, Pool};

/// Stores part `number` of binary `binary` from `body`, whose SHA-256 the caller declared as
/// `declared` (lowercase hex, already checked for shape). Sending a part again replaces it.
/// 422 when the length or digest is wrong; nothing is stored then.
pub async fn put_part<E: Display>(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    (binary, number): (&str, u64),
    declared: &str,
    body: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> ApiResult<ReceivedPart> {
    let stored = binary_or_404(pool, principal, binary).await?;
    let b = &stored.binary;
    if b.state == BinaryState::Ready {
        return Err(ApiError::conflict(format!(
            "binary {} is ready and immutable; it takes no more parts",
            b.id
        )));
    }
    if number == 0 || number > b.part_count {
        return Err(ApiError::invalid_field(
            "number",
            format!(
                "binary {} has parts 1 to {}; there is no part {number}",
                b.id, b.part_count
            ),
        ));
    }
    {
        let mut conn = pool.acquire().await?;
        check_active(&product_of(&mut conn, principal, &stored).await?)?;
    }
    let expected = b.part_size.min(b.size - (number - 1) * b.part_size);
    let digest = receive(firmware, &stored, number, expected, declared, body).await?;
    let part = ReceivedPart {
        number,
        size: expected,
        sha256: digest,
    };
    let mut tx = store::begin_write(pool).await?;
    let current = sql::get(&mut tx, &principal.org_id, &b.id).await?;
    match current {
        Some(c) if c.blob_prefix != stored.blob_prefix => {
            return Err(ApiError::conflict(
                "the upload was started over with another file while this part arrived",
            )
            .with_hint("push again"));
        }
        // Completed meanwhile: its parts are final (this part was stored under its own key,
        // which a ready binary only references if it holds these very bytes).
        Some(c) if c.binary.state == BinaryState::Ready => {
            return Err(ApiError::conflict(format!(
                "binary {} became ready while this part arrived; it takes no more parts",
                b.id
            )));
        }
        Some(_) => {}
        // Abandoned (or expired) while this part arrived: its object is collected later.
        None => return Err(unknown_binary(binary)),
    }
    sql::record_part(&mut tx, &b.id, &part, store::now()).await?;
    let details = serde_json::json!({ "number": number, "size": expected });
    audit::record(
        &mut tx,
        principal,
        AuditAction::BinaryPartReceived,
        b.id.as_str(),
        &b.product_id,
        details,
    )
    .await?;
    tx.commit().await?;
    firmware.running.part_stored(
        &firmware.blobs,
        &b.id,
        &stored.blob_prefix,
        number,
        &part.sha256,
    );
    Ok(part)
}

/// Streams part `number` into its object while hashing it; the object appears only when the
/// body had exactly `expected` bytes with SHA-256 `declared`. Returns that digest.
async fn receive<E: Display>(
    firmware: &Firmware,
    stored: &Stored,
    number: u64,
    expected: u64,
    declared: &str,
    body: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> ApiResult<String> {
    let key = part_key(&stored.blob_prefix, number, declared);
    let blobs = &firmware.blobs;
    let mut writer = blobs.writer(&key).await.map_err(blob_error)?;
    match stream_into(&mut writer, number, expected, declared, body).await {
        Ok(()) => {
            writer.finish().await.map_err(blob_error)?;
            Ok(declared.to_owned())
        }
        Err(err) => {
            writer.abort().await;
            Err(err)
        }
    }
}

async fn stream_into<E: Display>(
    writer: &mut BlobWriter,
    number: u64,
    expected: u64,
    declared: &str,
    mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> ApiResult<()> {
    let limit = usize::try_from(expected).unwrap_or(usize::MAX);
    let mut received = 0usize;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|err| ApiError::bad_request(format!("could not read the part: {err}")))?;
        if received + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        received += chunk.len();
        hasher.update(&chunk);
        writer.write(chunk).await.map_err(blob_error)?;
    }
    if received != limit {
        return Err(ApiError::invalid_field(
            "body",
            format!("part {number} must be {expected} bytes; {received} arrived"),
        ));
    }
    let digest = hex(&hasher.finalize());
    if digest != declared {
        return Err(ApiError::invalid_field(
            PART_SHA256_HEADER,
            format!(
                "part {number} arrived with SHA-256 {digest}, not the declared {declared}: it was \
                 corrupted on the way or the header is wrong; nothing was stored"
            ),
        )
        .with_hint("send the part again"));
    }
    Ok(())
}
