//! Presigned GET URLs of single objects (S3): signed locally with the store's credentials
//! (SigV4 query parameters, an HMAC chain: no request to the store), so a device can fetch a
//! binary's bytes straight from the bucket until the URL expires.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;

use super::{BlobError, Blobs};

/// The longest life S3 gives a SigV4 presigned URL: 7 days.
pub const MAX_PRESIGNED_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone)]
pub struct Presigner {
    /// The bucket's own client: `PrefixStore`, which the rest of the store goes through, signs
    /// nothing.
    pub(super) signer: Arc<dyn Signer>,
    /// The key prefix the rest of the store applies.
    pub(super) prefix: Option<ObjectPath>,
}

impl fmt::Debug for Presigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigner")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Blobs {
    /// Whether this store can hand out presigned URLs (an S3 bucket; not a local directory).
    pub fn can_presign(&self) -> bool {
        self.presigner.is_some()
    }

    /// A URL that fetches the object under `key` with a plain `GET` (ranges included) for
    /// `ttl` from now, without any other credential. `NotImplemented` on a store that cannot
    /// presign. Says nothing about whether the object exists.
    pub async fn presigned_get(&self, key: &str, ttl: Duration) -> Result<String, BlobError> {
        let presigner = self.presigner.as_ref().ok_or(BlobError::NotImplemented)?;
        let location = super::prefixed(presigner.prefix.as_ref(), key);
        let ttl = ttl.min(MAX_PRESIGNED_TTL);
        let url = presigner
            .signer
            .signed_url(reqwest::Method::GET, &location, ttl)
            .await?;
        Ok(url.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::blobs::s3::S3Settings;

    fn bucket(prefix: Option<&str>) -> Blobs {
        Blobs::s3(&S3Settings {
            bucket: "fw-bucket".into(),
            prefix: prefix.map(str::to_owned),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: "eu-west-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: None,
            path_style: true,
            allow_http: true,
        })
        .expect("an S3 client (no request made)")
    }

    #[tokio::test]
    async fn a_bucket_signs_urls_under_its_prefix_without_leaking_the_secret() {
        let blobs = bucket(Some("prod/eu"));
        assert!(blobs.can_presign());
        let url = blobs
            .presigned_get("binaries/b1/content", Duration::from_secs(900))
            .await
            .expect("signed locally");
        assert!(
            url.starts_with("http://127.0.0.1:9/fw-bucket/prod/eu/binaries/b1/content?"),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F",
            "X-Amz-Expires=900",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(!url.contains("very-secret"), "{url}");
    }

    #[tokio::test]
    async fn a_life_past_what_s3_accepts_is_cut_to_seven_days() {
        let url = bucket(None)
            .presigned_get("k", Duration::from_secs(30 * 24 * 3600))
            .await
            .expect("signed");
        assert!(url.starts_with("http://127.0.0.1:9/fw-bucket/k?"), "{url}");
        assert!(url.contains("X-Amz-Expires=604800"), "{url}");
    }

    #[tokio::test]
    async fn local_and_in_memory_stores_cannot_presign() {
        let blobs = Blobs::in_memory();
        assert!(!blobs.can_presign());
        let err = blobs.presigned_get("k", Duration::from_secs(60)).await;
        assert!(matches!(err, Err(BlobError::NotImplemented)), "{err:?}");
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!Blobs::local(dir.path()).expect("local store").can_presign());
    }
}
