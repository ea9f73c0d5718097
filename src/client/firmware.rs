//! Firmware endpoints: artifacts, versions, binaries (declare, parts, complete, download),
//! signing keys and signatures, bundles, releases and the product firmware policy.
//!
//! Part uploads bypass the JSON request path: they carry raw bytes and their own digest header,
//! need no idempotency key (a part PUT is idempotent), and retry transport failures too.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::Stream;
use reqwest::{Method, Response, StatusCode, Url};

use super::error::{self, Attempt};
use super::{ApiClient, paging};
use crate::api::firmware::PART_CRC32C_HEADER;
use crate::api::{
    AddSignature, Artifact, ArtifactVersion, Binary, BinaryListQuery, BinaryParts, BinaryUpload,
    Bundle, CompleteBinary, CreateArtifact, CreateBinary, CreateBundle, CreateRelease,
    CreateSigningKey, CreateVersion, FirmwarePolicy, Page, PageQuery, PagedQuery,
    ProductFirmwarePolicy, PromoteRelease, ReceivedPart, Release, ReleaseListQuery, SigningKey,
    UpdateRelease,
};
use crate::error::Result;

/// One part may take this long (8 MiB at ~30 KB/s).
const PART_TIMEOUT: Duration = Duration::from_secs(300);
/// A download may take this long in total.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Retries of one part after its first attempt.
const PART_RETRIES: usize = 5;

pub struct Firmware<'a> {
    client: &'a ApiClient,
}

impl<'a> Firmware<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Firmware { client }
    }

    fn url(&self, segments: &[&str]) -> Result<Url> {
        self.client.url(segments)
    }

    pub async fn create_artifact(&self, product: &str, body: &CreateArtifact) -> Result<Artifact> {
        let url = self.url(&["products", product, "artifacts"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn artifact(&self, product: &str, artifact: &str) -> Result<Artifact> {
        let url = self.url(&["products", product, "artifacts", artifact])?;
        self.client.get(url).await
    }

    pub async fn create_version(
        &self,
        product: &str,
        artifact: &str,
        body: &CreateVersion,
    ) -> Result<ArtifactVersion> {
        let url = self.url(&["products", product, "artifacts", artifact, "versions"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn version(
        &self,
        product: &str,
        artifact: &str,
        version: &str,
    ) -> Result<ArtifactVersion> {
        let url = self.url(&[
            "products",
            product,
            "artifacts",
            artifact,
            "versions",
            version,
        ])?;
        self.client.get(url).await
    }

    /// Declares a binary; answers with the existing one when this file is already known.
    pub async fn create_binary(
        &self,
        product: &str,
        artifact: &str,
        version: &str,
        body: &CreateBinary,
    ) -> Result<BinaryUpload> {
        let segments = [
            "products",
            product,
            "artifacts",
            artifact,
            "versions",
            version,
            "binaries",
        ];
        let url = self.url(&segments)?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn binary(&self, id: &str) -> Result<Binary> {
        self.client.get(self.url(&["binaries", id])?).await
    }

    pub async fn binaries(&self, query: &BinaryListQuery) -> Result<Page<Binary>> {
        let mut url = self.url(&["binaries"])?;
        url.query_pairs_mut().extend_pairs(query.to_pairs());
        self.client.get(url).await
    }

    pub fn binaries_up_to(
        &self,
        query: BinaryListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Binary>> + use<> {
        paging::stream(self.client.clone(), vec!["binaries".into()], query, max)
    }

    /// Abandons an unfinished upload (the service refuses a ready binary).
    pub async fn abandon(&self, id: &str) -> Result<()> {
        self.client.delete(self.url(&["binaries", id])?).await
    }

    pub async fn parts(&self, id: &str) -> Result<BinaryParts> {
        self.client.get(self.url(&["binaries", id, "parts"])?).await
    }

    /// Uploads one part of `size` bytes with its CRC32C (8 lowercase hex digits), retrying
    /// network failures, 429 and 5xx with backoff; `body` makes the part's body afresh for
    /// each attempt (e.g. a stream reading the file).
    pub async fn put_part(
        &self,
        id: &str,
        number: u64,
        size: u64,
        body: impl Fn() -> reqwest::Body,
        crc32c: &str,
    ) -> Result<ReceivedPart> {
        let url = self.url(&["binaries", id, "parts", &number.to_string()])?;
        let attempt = || async {
            let request = self
                .client
                .inner
                .http
                .put(url.clone())
                .timeout(PART_TIMEOUT)
                .header(PART_CRC32C_HEADER, crc32c)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, size)
                .body(body());
            Attempt::check(request.send().await).await
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(PART_RETRIES)
            .with_jitter();
        let response = attempt
            .retry(backoff)
            .when(|a| match a {
                // A part PUT is idempotent: any transport failure may be retried.
                Attempt::Transport(_) => true,
                Attempt::Status { status, .. } if *status == StatusCode::INTERNAL_SERVER_ERROR => {
                    true
                }
                other => other.is_retryable(),
            })
            .await
            .map_err(|a| a.into_error(self.client, &Method::PUT, &url))?;
        error::decode(self.client, response).await
    }

    /// Completes an upload; `sha256` names the whole file's digest when the upload was
    /// declared without it.
    pub async fn complete(&self, id: &str, sha256: Option<&str>) -> Result<Binary> {
        let url = self.url(&["binaries", id, "complete"])?;
        let body = CompleteBinary {
            sha256: sha256.map(str::to_owned),
        };
        self.client.write(Method::POST, url, &body).await
    }

    /// The download response, status checked; read its body as a stream.
    pub async fn download(&self, id: &str) -> Result<Response> {
        let url = self.url(&["binaries", id, "download"])?;
        let request = self
            .client
            .inner
            .http
            .get(url.clone())
            .timeout(DOWNLOAD_TIMEOUT);
        Attempt::check(request.send().await)
            .await
            .map_err(|a| a.into_error(self.client, &Method::GET, &url))
    }

    pub async fn sign(&self, id: &str, body: &AddSignature) -> Result<Binary> {
        let url = self.url(&["binaries", id, "signatures"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn create_key(&self, body: &CreateSigningKey) -> Result<SigningKey> {
        let url = self.url(&["signing-keys"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub fn keys_up_to(&self, max: Option<u64>) -> impl Stream<Item = Result<SigningKey>> + use<> {
        let path = vec!["signing-keys".into()];
        paging::stream(self.client.clone(), path, PageQuery::default(), max)
    }

    pub async fn key(&self, key: &str) -> Result<SigningKey> {
        self.client.get(self.url(&["signing-keys", key])?).await
    }

    pub async fn delete_key(&self, key: &str) -> Result<()> {
        self.client.delete(self.url(&["signing-keys", key])?).await
    }

    pub async fn create_bundle(&self, product: &str, body: &CreateBundle) -> Result<Bundle> {
        let url = self.url(&["products", product, "bundles"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn bundle(&self, product: &str, bundle: &str) -> Result<Bundle> {
        let url = self.url(&["products", product, "bundles", bundle])?;
        self.client.get(url).await
    }

    pub fn bundles_up_to(
        &self,
        product: &str,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Bundle>> + use<> {
        let path = vec!["products".into(), product.to_owned(), "bundles".into()];
        paging::stream(self.client.clone(), path, PageQuery::default(), max)
    }

    pub async fn create_release(&self, product: &str, body: &CreateRelease) -> Result<Release> {
        let url = self.url(&["products", product, "releases"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn release(&self, product: &str, release: &str) -> Result<Release> {
        let url = self.url(&["products", product, "releases", release])?;
        self.client.get(url).await
    }

    pub async fn update_release(
        &self,
        product: &str,
        release: &str,
        body: &UpdateRelease,
    ) -> Result<Release> {
        let url = self.url(&["products", product, "releases", release])?;
        self.client.write(Method::PATCH, url, body).await
    }

    /// `halt` or `resume` a release (`POST …/releases/{release}/{verb}`).
    pub async fn release_command(
        &self,
        product: &str,
        release: &str,
        verb: &str,
    ) -> Result<Release> {
        let url = self.url(&["products", product, "releases", release, verb])?;
        self.client
            .write(Method::POST, url, &serde_json::json!({}))
            .await
    }

    pub async fn promote_release(
        &self,
        product: &str,
        release: &str,
        body: &PromoteRelease,
    ) -> Result<Release> {
        let url = self.url(&["products", product, "releases", release, "promote"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub fn releases_up_to(
        &self,
        product: &str,
        query: ReleaseListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Release>> + use<> {
        let path = vec!["products".into(), product.to_owned(), "releases".into()];
        paging::stream(self.client.clone(), path, query, max)
    }

    pub async fn policy(&self, product: &str) -> Result<ProductFirmwarePolicy> {
        let url = self.url(&["products", product, "firmware-policy"])?;
        self.client.get(url).await
    }

    pub async fn set_policy(
        &self,
        product: &str,
        body: &FirmwarePolicy,
    ) -> Result<ProductFirmwarePolicy> {
        let url = self.url(&["products", product, "firmware-policy"])?;
        self.client.write(Method::PUT, url, body).await
    }
}
