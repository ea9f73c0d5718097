//! Where an offer sends a device for each binary's bytes: the device API's own download path
//! (`proxy`, the default), or with `presigned` a short-lived presigned URL of the S3 object, so
//! firmware bytes flow from the bucket instead of through the replicas. Only a binary stored as
//! one object (the multipart layout) can be presigned; one stored as separate part objects
//! (uploaded with parts under the store's minimum, or copied from a local store) keeps the
//! device-API path, which joins its parts. URLs are signed for each answer (a local HMAC, no
//! request to the store) and never cached: the offer cache keeps where the content lies, not a
//! URL that expires.

use std::time::Duration;

use crate::api::device_api::BINARIES_PATH;
use crate::server::blobs::Blobs;
use crate::server::domain::firmware::content_key;
use crate::server::store::device_offers::BundleBinary;
use crate::server::store::firmware::binaries::BlobLayout;

/// How long a presigned URL works by default: long enough to start a download after the
/// check-in, short enough that a withdrawn offer is not fetchable for long.
pub const DEFAULT_PRESIGNED_URL_TTL: Duration = Duration::from_secs(15 * 60);

/// How devices download offered binaries (`fleet server --device-downloads`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceDownloads {
    /// Through the device API (`/v1/device/binaries/{id}`), which streams from the blob store.
    #[default]
    Proxy,
    /// From a presigned URL of the object store valid for `ttl`, where the binary is one object.
    Presigned { ttl: Duration },
}

/// Makes each offered binary's `url`.
#[derive(Clone, Debug)]
pub struct DownloadLinks {
    downloads: DeviceDownloads,
    blobs: Blobs,
}

impl Default for DownloadLinks {
    fn default() -> Self {
        DownloadLinks {
            downloads: DeviceDownloads::Proxy,
            blobs: Blobs::in_memory(),
        }
    }
}

impl DownloadLinks {
    /// Links for `downloads` from `blobs`; presigned URLs need a store that signs them (S3).
    pub fn new(downloads: DeviceDownloads, blobs: Blobs) -> Result<Self, String> {
        if matches!(downloads, DeviceDownloads::Presigned { .. }) && !blobs.can_presign() {
            return Err(
                "presigned device downloads need an S3 blob store: a local blob \
                        directory has no URL a device could fetch"
                    .to_owned(),
            );
        }
        Ok(DownloadLinks { downloads, blobs })
    }

    /// Where the device downloads `binary`: a presigned URL when that is on and the binary is
    /// one object, else the device-API path (also when signing fails, which is logged).
    pub async fn url(&self, binary: &BundleBinary) -> String {
        let path = format!("{BINARIES_PATH}/{}", binary.binary_id);
        let DeviceDownloads::Presigned { ttl } = self.downloads else {
            return path;
        };
        if binary.layout != BlobLayout::Multipart {
            return path;
        }
        let key = content_key(&binary.blob_prefix);
        match self.blobs.presigned_get(&key, ttl).await {
            Ok(url) => url,
            Err(err) => {
                tracing::warn!(
                    binary = %binary.binary_id,
                    error = %err,
                    "could not presign a binary's URL; the device downloads it through the device API"
                );
                path
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BinaryId;
    use crate::server::blobs::s3::S3Settings;

    fn binary(layout: BlobLayout) -> BundleBinary {
        BundleBinary {
            binary_id: BinaryId::generate(),
            artifact: "app".into(),
            version: "1.0".into(),
            target: "armv7".into(),
            size: 10,
            sha256: "00".into(),
            blob_prefix: "binaries/b1/u1".into(),
            layout,
        }
    }

    fn bucket() -> Blobs {
        Blobs::s3(&S3Settings {
            bucket: "fw-bucket".into(),
            prefix: Some("prod".into()),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: None,
            path_style: true,
            allow_http: true,
        })
        .expect("an S3 client (no request made)")
    }

    const PRESIGNED: DeviceDownloads = DeviceDownloads::Presigned {
        ttl: Duration::from_secs(300),
    };

    #[tokio::test]
    async fn presigned_links_point_a_single_object_binary_at_the_bucket() {
        let links = DownloadLinks::new(PRESIGNED, bucket()).expect("S3 presigns");
        let url = links.url(&binary(BlobLayout::Multipart)).await;
        assert!(
            url.starts_with("http://127.0.0.1:9/fw-bucket/prod/binaries/b1/u1/content?"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
    }

    #[tokio::test]
    async fn a_binary_in_part_objects_and_the_proxy_setting_keep_the_device_api_path() {
        let parts = binary(BlobLayout::Parts);
        let links = DownloadLinks::new(PRESIGNED, bucket()).expect("S3 presigns");
        assert_eq!(
            links.url(&parts).await,
            format!("/v1/device/binaries/{}", parts.binary_id)
        );
        let proxy = DownloadLinks::new(DeviceDownloads::Proxy, bucket()).expect("proxy");
        let single = binary(BlobLayout::Multipart);
        assert_eq!(
            proxy.url(&single).await,
            format!("/v1/device/binaries/{}", single.binary_id)
        );
    }

    #[test]
    fn presigned_links_from_a_store_that_cannot_sign_are_refused() {
        let err = DownloadLinks::new(PRESIGNED, Blobs::in_memory()).expect_err("refused");
        assert!(err.contains("need an S3 blob store"), "{err}");
        assert!(DownloadLinks::new(DeviceDownloads::Proxy, Blobs::in_memory()).is_ok());
    }
}
