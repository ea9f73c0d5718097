//! The store's multipart API (S3): one multipart upload per binary upload, parts put straight
//! into it by whichever replica receives them, completed into one object by whichever replica
//! completes. The upload ID and each part's ETag live in the database, never here.

use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;

use super::{BlobError, Blobs};

#[derive(Clone)]
pub struct Multipart {
    pub(super) store: Arc<dyn MultipartStore>,
    /// The key prefix the rest of the store applies through `PrefixStore`, which has no
    /// multipart API of its own.
    pub(super) prefix: Option<ObjectPath>,
    /// Smallest part but the last the store accepts.
    pub(super) min_part: u64,
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("prefix", &self.prefix)
            .field("min_part", &self.min_part)
            .finish_non_exhaustive()
    }
}

impl Multipart {
    fn location(&self, key: &str) -> ObjectPath {
        super::prefixed(self.prefix.as_ref(), key)
    }
}

fn unsupported() -> BlobError {
    BlobError::NotImplemented
}

impl Blobs {
    /// The smallest part (but the last) of a multipart upload, when this store uploads through
    /// its multipart API; `None` when binaries are stored as separate part objects.
    pub fn multipart_min_part(&self) -> Option<u64> {
        self.multipart.as_ref().map(|m| m.min_part)
    }

    /// Starts a multipart upload that will become the object `key`; its ID.
    pub async fn create_upload(&self, key: &str) -> Result<String, BlobError> {
        let m = self.multipart.as_ref().ok_or_else(unsupported)?;
        m.store.create_multipart(&m.location(key)).await
    }

    /// Uploads part `number` (from 1) of upload `upload_id`; the part's ETag. Sending a
    /// number again replaces that part.
    pub async fn put_upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u64,
        chunks: Vec<Bytes>,
    ) -> Result<String, BlobError> {
        let m = self.multipart.as_ref().ok_or_else(unsupported)?;
        let index = usize::try_from(number.saturating_sub(1)).map_err(|_| unsupported())?;
        let id = upload_id.to_owned();
        let part = m
            .store
            .put_part(&m.location(key), &id, index, chunks.into_iter().collect())
            .await?;
        Ok(part.content_id)
    }

    /// Assembles upload `upload_id` from the parts with `etags` (part 1 first) into `key`.
    pub async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), BlobError> {
        let m = self.multipart.as_ref().ok_or_else(unsupported)?;
        let parts = etags
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        let id = upload_id.to_owned();
        m.store
            .complete_multipart(&m.location(key), &id, parts)
            .await?;
        Ok(())
    }

    /// Discards upload `upload_id` and its parts.
    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), BlobError> {
        let m = self.multipart.as_ref().ok_or_else(unsupported)?;
        let id = upload_id.to_owned();
        m.store.abort_multipart(&m.location(key), &id).await
    }

    /// An in-memory store with a multipart API taking parts of any size (tests).
    #[cfg(test)]
    pub fn in_memory_multipart() -> Self {
        let store = Arc::new(object_store::memory::InMemory::new());
        Blobs {
            store: store.clone(),
            local: None,
            multipart: Some(Multipart {
                store,
                prefix: None,
                min_part: 1,
            }),
            write_chunk: super::LOCAL_WRITE_CHUNK,
            presigner: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt as _;

    use super::*;

    #[tokio::test]
    async fn parts_are_assembled_in_number_order_and_a_part_sent_again_replaces_it() {
        // (Puts in order: object_store's in-memory store cannot take a later part first; S3
        // can, which the integration suite's S3 run shows.)
        let blobs = Blobs::in_memory_multipart();
        let upload = blobs.create_upload("b/p/content").await.expect("create");
        let mut etags = vec![String::new(); 3];
        for (number, text) in [
            (1u64, "part 1;"),
            (2, "wrong"),
            (2, "part 2;"),
            (3, "part 3;"),
        ] {
            let bytes = Bytes::from(text);
            let etag = blobs
                .put_upload_part("b/p/content", &upload, number, vec![bytes])
                .await
                .expect("put");
            etags[number as usize - 1] = etag;
        }
        blobs
            .complete_upload("b/p/content", &upload, etags)
            .await
            .expect("complete");
        let read: Vec<Bytes> = blobs
            .read("b/p/content")
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("bytes");
        assert_eq!(read.concat(), b"part 1;part 2;part 3;");
        assert_eq!(blobs.multipart_min_part(), Some(1));
        assert_eq!(Blobs::in_memory().multipart_min_part(), None);
        let err = Blobs::in_memory().create_upload("x").await;
        assert!(matches!(err, Err(BlobError::NotImplemented)), "{err:?}");
    }
}
