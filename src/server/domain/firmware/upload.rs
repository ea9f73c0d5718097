//! Part uploads: one part, checked while it arrives and kept only when its length and checksum
//! (SHA-256, or CRC32C when the uploader verifies the whole file's SHA-256 on completion) are
//! the expected ones. In the 'parts' layout it streams into its own object (a few chunks in
//! memory) and the upload's running whole-file digest moves on in the background; in the
//! 'multipart' layout it is buffered (one part in memory) and put into the store's multipart
//! upload, whose ETag the database keeps, so any replica can take any part.

use std::fmt::Display;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use sha2::{Digest as _, Sha256};

use super::{
    Firmware, binary_or_404, blob_error, check_active, content_key, part_key, product_of,
    unknown_binary,
};
use crate::api::firmware::{PART_CRC32C_HEADER, PART_SHA256_HEADER};
use crate::api::{AuditAction, BinaryId, BinaryState, OrgId, ReceivedPart};
use crate::server::auth::Principal;
use crate::server::blobs::BlobWriter;
use crate::server::domain::audit;
use crate::server::error::{ApiError, ApiResult};
use crate::server::hex::hex;
use crate::server::store::firmware::binaries::{self as sql, BlobLayout, Stored};
use crate::server::store::{self, Pool};

/// The checksum a part is sent with, checked over its bytes as they arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartChecksum {
    /// Lowercase hex SHA-256 (already checked for shape).
    Sha256(String),
    /// CRC32C (Castagnoli): a hardware checksum for the transfer; the whole file's SHA-256,
    /// verified on completion, stands for the content.
    Crc32c(u32),
}

impl PartChecksum {
    /// The name the part is received under ([`ReceivedPart::tag`]): its SHA-256, which names
    /// these bytes; a CRC32C does not, so each receipt gets a name of its own.
    fn tag(&self) -> String {
        match self {
            PartChecksum::Sha256(digest) => digest.clone(),
            PartChecksum::Crc32c(crc) => format!("{crc:08x}-{}", uuid::Uuid::now_v7().simple()),
        }
    }
}

/// Stores part `number` of binary `binary` from `body`, whose checksum the caller declared as
/// `declared`. Sending a part again replaces it. 422 when the length or checksum is wrong;
/// nothing is stored then.
pub async fn put_part<E: Display>(
    pool: &Pool,
    firmware: &Firmware,
    principal: &Principal,
    (binary, number): (&str, u64),
    declared: &PartChecksum,
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
    let tag = declared.tag();
    let etag = match stored.layout {
        BlobLayout::Parts => {
            let chunks =
                receive(firmware, &stored, (number, &tag), expected, declared, body).await?;
            let part = super::running::KeptPart {
                number,
                tag: tag.clone(),
                chunks,
            };
            firmware.running.keep(&b.id, part).await;
            None
        }
        BlobLayout::Multipart => {
            let org = &principal.org_id;
            let upload_id = multipart_upload(pool, firmware, org, &stored).await?;
            let mut chunks = Vec::new();
            let mut sink = Sink::Memory(&mut chunks);
            stream_into(&mut sink, number, expected, declared, body).await?;
            let key = content_key(&stored.blob_prefix);
            // The same buffers, for the running digest: the store cannot hand a part of an
            // unfinished upload back, so only what is kept here spares `complete` a read of
            // the assembled object.
            let kept = chunks.clone();
            let put = firmware
                .blobs
                .put_upload_part(&key, &upload_id, number, chunks);
            let etag = put.await.map_err(|err| match err {
                object_store::Error::NotFound { .. } => being_completed(&b.id),
                other => blob_error(other),
            })?;
            let part = super::running::KeptPart {
                number,
                tag: tag.clone(),
                chunks: kept,
            };
            firmware.running.keep(&b.id, part).await;
            Some(etag)
        }
    };
    let part = ReceivedPart {
        number,
        size: expected,
        sha256: match declared {
            PartChecksum::Sha256(digest) => Some(digest.clone()),
            PartChecksum::Crc32c(_) => None,
        },
        crc32c: match declared {
            PartChecksum::Sha256(_) => None,
            PartChecksum::Crc32c(crc) => Some(format!("{crc:08x}")),
        },
        tag,
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
    sql::record_part(&mut tx, &b.id, &part, etag.as_deref(), store::now()).await?;
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
    let upload = (&b.id, stored.blob_prefix.as_str());
    let readable = stored.layout == BlobLayout::Parts;
    firmware
        .running
        .part_stored(pool, &firmware.blobs, upload, readable);
    Ok(part)
}

fn being_completed(id: &BinaryId) -> ApiError {
    ApiError::conflict(format!(
        "binary {id} is being completed (or was started over); it takes no more parts"
    ))
    .with_hint("check it with `fleet firmware list`, or push again")
}

/// The store's multipart upload of a 'multipart' upload: the recorded one, or one created now.
/// When replicas race to create it, the database keeps the first recorded and the others
/// discard theirs.
async fn multipart_upload(
    pool: &Pool,
    firmware: &Firmware,
    org: &OrgId,
    stored: &Stored,
) -> ApiResult<String> {
    if let Some(id) = &stored.multipart_upload_id {
        return Ok(id.clone());
    }
    let (b, prefix) = (&stored.binary, &stored.blob_prefix);
    let key = content_key(prefix);
    let created = firmware
        .blobs
        .create_upload(&key)
        .await
        .map_err(blob_error)?;
    let mut tx = store::begin_write(pool).await?;
    let won = sql::set_multipart_upload(&mut tx, &b.id, prefix, &created).await?;
    let current = sql::get(&mut tx, org, &b.id).await?;
    tx.commit().await?;
    if won {
        return Ok(created);
    }
    if let Err(err) = firmware.blobs.abort_upload(&key, &created).await {
        tracing::debug!(error = %err, "could not discard a multipart upload that lost the race");
    }
    match current {
        Some(c) if c.blob_prefix == *prefix => {
            c.multipart_upload_id.ok_or_else(|| being_completed(&b.id))
        }
        _ => Err(being_completed(&b.id)),
    }
}

/// Streams part `number` (received as `tag`) into its object while checking it; the object
/// appears only when the body had exactly `expected` bytes with the `declared` checksum.
/// Returns the chunks as they arrived (shared with the object's writes, not copied).
async fn receive<E: Display>(
    firmware: &Firmware,
    stored: &Stored,
    (number, tag): (u64, &str),
    expected: u64,
    declared: &PartChecksum,
    body: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> ApiResult<Vec<Bytes>> {
    let key = part_key(&stored.blob_prefix, number, tag);
    let blobs = &firmware.blobs;
    let mut writer = blobs.writer(&key).await.map_err(blob_error)?;
    let mut chunks = Vec::new();
    let mut sink = Sink::Object(&mut writer, &mut chunks);
    match stream_into(&mut sink, number, expected, declared, body).await {
        Ok(()) => writer.finish().await.map_err(blob_error).map(|()| chunks),
        Err(err) => {
            writer.abort().await;
            Err(err)
        }
    }
}

/// Where a part's bytes go while they are checked.
enum Sink<'a> {
    /// Streamed into the part's own object, the chunks kept for the running digest.
    Object(&'a mut BlobWriter, &'a mut Vec<Bytes>),
    /// Kept in memory for the store's multipart API, which takes a part whole.
    Memory(&'a mut Vec<Bytes>),
}

impl Sink<'_> {
    async fn put(&mut self, chunk: Bytes) -> ApiResult<()> {
        match self {
            Sink::Object(writer, kept) => {
                kept.push(chunk.clone());
                writer.write(chunk).await.map_err(blob_error)
            }
            Sink::Memory(chunks) => {
                chunks.push(chunk);
                Ok(())
            }
        }
    }
}

/// The running check of a part's bytes against the declared checksum.
enum Checker<'a> {
    Sha256(Sha256, &'a str),
    Crc32c(u32, u32),
}

impl<'a> Checker<'a> {
    fn new(declared: &'a PartChecksum) -> Self {
        match declared {
            PartChecksum::Sha256(wanted) => Checker::Sha256(Sha256::new(), wanted),
            PartChecksum::Crc32c(wanted) => Checker::Crc32c(0, *wanted),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checker::Sha256(hasher, _) => hasher.update(bytes),
            Checker::Crc32c(crc, _) => *crc = crc32c::crc32c_append(*crc, bytes),
        }
    }

    /// 422 unless the bytes had the declared checksum.
    fn verify(self, number: u64) -> ApiResult<()> {
        let (header, got, wanted) = match self {
            Checker::Sha256(hasher, wanted) => {
                let got = hex(&hasher.finalize());
                if got == wanted {
                    return Ok(());
                }
                (
                    PART_SHA256_HEADER,
                    format!("SHA-256 {got}"),
                    wanted.to_owned(),
                )
            }
            Checker::Crc32c(got, wanted) => {
                if got == wanted {
                    return Ok(());
                }
                let (got, wanted) = (format!("CRC32C {got:08x}"), format!("{wanted:08x}"));
                (PART_CRC32C_HEADER, got, wanted)
            }
        };
        Err(ApiError::invalid_field(
            header,
            format!(
                "part {number} arrived with {got}, not the declared {wanted}: it was corrupted \
                 on the way or the header is wrong; nothing was stored"
            ),
        )
        .with_hint("send the part again"))
    }
}

async fn stream_into<E: Display>(
    sink: &mut Sink<'_>,
    number: u64,
    expected: u64,
    declared: &PartChecksum,
    mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> ApiResult<()> {
    let limit = usize::try_from(expected).unwrap_or(usize::MAX);
    let mut received = 0usize;
    let mut checker = Checker::new(declared);
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|err| ApiError::bad_request(format!("could not read the part: {err}")))?;
        if received + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        received += chunk.len();
        checker.update(&chunk);
        sink.put(chunk).await?;
    }
    if received != limit {
        return Err(ApiError::invalid_field(
            "body",
            format!("part {number} must be {expected} bytes; {received} arrived"),
        ));
    }
    checker.verify(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_checked_by_crc32c_gets_a_new_name_each_time_it_is_received() {
        // Two receipts with one CRC32C may hold other bytes: neither may take the other's key.
        let crc = PartChecksum::Crc32c(0xe306_9283);
        let (first, second) = (crc.tag(), crc.tag());
        assert_ne!(first, second);
        assert!(first.starts_with("e3069283-"), "{first}");
        let sha = PartChecksum::Sha256("ab".repeat(32));
        assert_eq!(
            sha.tag(),
            "ab".repeat(32),
            "a SHA-256 names the bytes themselves"
        );
    }

    #[tokio::test]
    async fn a_part_is_kept_only_with_the_declared_crc32c() {
        let bytes = bytes::Bytes::from_static(b"123456789");
        let body = || futures_util::stream::iter([Ok::<_, std::io::Error>(bytes.clone())]);
        let mut kept = Vec::new();
        let right = PartChecksum::Crc32c(0xe306_9283);
        let mut sink = Sink::Memory(&mut kept);
        stream_into(&mut sink, 1, 9, &right, body())
            .await
            .expect("the check value of CRC-32C");
        let wrong = PartChecksum::Crc32c(0xe306_9284);
        let mut sink = Sink::Memory(&mut kept);
        let refused = stream_into(&mut sink, 1, 9, &wrong, body()).await;
        assert!(refused.is_err(), "a wrong CRC32C is refused");
    }
}
