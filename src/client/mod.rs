//! The typed HTTP client of the fleet service: one sub-client per resource, retries with
//! backoff for requests that are safe to repeat, and the mapping from HTTP failures to
//! [`crate::error::Error`] kinds (and so exit codes). Each attempt is reported as a `tracing`
//! debug event, which `-v` prints.

mod api_keys;
mod bulk;
mod cas;
mod cohorts;
mod configs;
pub mod device;
mod device_certs;
mod devices;
mod error;
mod events;
mod firmware;
mod import_body;
mod paging;
mod products;
mod stats;
mod streamed_page;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use api_keys::ApiKeys;
pub use bulk::Bulk;
pub use cas::Cas;
pub use cohorts::Cohorts;
pub use configs::{ConfigTarget, Configs};
pub use device_certs::DeviceCerts;
pub use devices::Devices;
pub use events::Events;
pub use firmware::Firmware;
pub use products::Products;
pub use stats::StatsClient;

use crate::api;
use crate::error::{Error, ErrorKind, Result};
use error::Attempt;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A streamed answer has no overall deadline (a whole fleet takes as long as it takes); each of
/// its chunks must arrive within [`REQUEST_TIMEOUT`] instead. This only bounds the request
/// under the per-chunk check.
const STREAM_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// A bulk operation is one transaction over up to a whole fleet: on a loaded service it runs
/// far longer than a single-resource request, and a client that gives up first only learns
/// "outcome unknown" while the service goes on to commit it.
const BULK_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Retries after the first attempt, for connect errors, 429 and 502/503/504, and for reads
/// whose connection dropped before the answer.
const RETRIES: usize = 3;
/// A server asking for a longer pause than this is treated as unavailable for this run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A JSON request body, made afresh for each attempt.
enum Payload<'a> {
    /// Encoded up front; shared between attempts without copying.
    Json(bytes::Bytes),
    /// Encoded while it is sent, by a function called once per attempt.
    Stream(&'a (dyn Fn() -> reqwest::Body + Sync)),
}

impl Payload<'_> {
    fn make(&self) -> reqwest::Body {
        match self {
            Payload::Json(bytes) => bytes.clone().into(),
            Payload::Stream(make) => make(),
        }
    }
}

/// How long the client waits for an answer.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// One ordinary request (a read or a single-resource write), per attempt.
    pub request: Duration,
    /// One bulk operation (move, assign, unassign, import).
    pub bulk: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            request: REQUEST_TIMEOUT,
            bulk: BULK_TIMEOUT,
        }
    }
}

/// A client for one service URL and API key. Cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    /// Where the key came from ("profile `local`"), for hints when it is rejected.
    key_source: String,
    timeouts: Timeouts,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// What one request sets beyond the client's defaults.
#[derive(Debug, Default, Clone, Copy)]
struct RequestOptions {
    /// Another overall timeout than the client's (streamed answers).
    timeout: Option<Duration>,
    /// `If-Match: "<revision>"`: the write applies only at that revision (412 otherwise).
    if_match: Option<i64>,
}

impl ApiClient {
    /// A client for the service at `api_url` (e.g. `http://127.0.0.1:4040`) using `api_key`.
    pub fn new(api_url: &str, api_key: &str) -> Result<Self> {
        Self::build(api_url, api_key, String::new())
    }

    /// Like [`ApiClient::new`], with a description of where the key came from (used in hints).
    pub fn build(api_url: &str, api_key: &str, key_source: String) -> Result<Self> {
        Self::build_with(api_url, api_key, key_source, Timeouts::default())
    }

    /// Like [`ApiClient::new`], waiting as long as `timeouts` say.
    pub fn with_timeouts(api_url: &str, api_key: &str, timeouts: Timeouts) -> Result<Self> {
        Self::build_with(api_url, api_key, String::new(), timeouts)
    }

    fn build_with(
        api_url: &str,
        api_key: &str,
        key_source: String,
        timeouts: Timeouts,
    ) -> Result<Self> {
        let base = Url::parse(api_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                Error::usage(format!("`{api_url}` is not a valid API URL"))
                    .hint("use the form http://HOST:PORT, e.g. http://127.0.0.1:4040")
            })?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|_| {
            Error::new(
                ErrorKind::Auth,
                "the API key contains characters that cannot be sent in a header",
            )
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            // Loading the trust roots reads and parses every certificate of the system store
            // (the `server` feature's S3 client turns native roots on for reqwest as a whole):
            // most of a short command's run. A plain-HTTP service needs none.
            .tls_built_in_root_certs(base.scheme() == "https")
            .user_agent(concat!("fleet/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeouts.request)
            .build()
            .map_err(|err| Error::failure("could not set up the HTTP client").with_source(err))?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http,
                base,
                key_source,
                timeouts,
            }),
        })
    }

    /// The service URL, as configured.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str().trim_end_matches('/')
    }

    pub fn products(&self) -> Products<'_> {
        Products::new(self)
    }

    pub fn configs(&self) -> Configs<'_> {
        Configs::new(self)
    }

    pub fn cohorts(&self) -> Cohorts<'_> {
        Cohorts::new(self)
    }

    pub fn devices(&self) -> Devices<'_> {
        Devices::new(self)
    }

    pub fn cas(&self) -> Cas<'_> {
        Cas::new(self)
    }

    pub fn device_certs(&self) -> DeviceCerts<'_> {
        DeviceCerts::new(self)
    }

    pub fn bulk(&self) -> Bulk<'_> {
        Bulk::new(self)
    }

    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys::new(self)
    }

    pub fn events(&self) -> Events<'_> {
        Events::new(self)
    }

    pub fn firmware(&self) -> Firmware<'_> {
        Firmware::new(self)
    }

    pub fn stats(&self) -> stats::StatsClient<'_> {
        stats::StatsClient::new(self)
    }

    /// `/v1/<segments…>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url> {
        // URL parsers (ours and the service's) treat `.` and `..` as path navigation, even
        // percent-encoded, so such a name cannot be addressed; its ID can.
        if let Some(dots) = segments.iter().find(|s| matches!(**s, "." | "..")) {
            return Err(
                Error::usage(format!("`{dots}` cannot be sent as a name in a URL path"))
                    .hint("use the resource's ID instead (see the list command's `-o id`)"),
            );
        }
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.push(api::BASE_PATH.trim_start_matches('/'));
            path.extend(segments);
        }
        Ok(url)
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        let response = self.execute(Method::GET, url, None).await?;
        error::decode(self, response).await
    }

    async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|err| Error::failure("could not encode the request").with_source(err))?;
        let response = self
            .execute(method, url, Some(Payload::Json(body.into())))
            .await?;
        error::decode(self, response).await
    }

    /// A GET whose answer the caller reads as a stream (see [`STREAM_TIMEOUT`]): the response
    /// once its status is a success, else the service's error.
    async fn get_streamed(&self, url: Url) -> Result<Response> {
        let options = RequestOptions {
            timeout: Some(STREAM_TIMEOUT),
            ..RequestOptions::default()
        };
        self.execute_with(Method::GET, url, None, options).await
    }

    /// A write that only applies at `revision` of the resource (`If-Match`; 412 otherwise).
    async fn write_at<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
        revision: Option<i64>,
    ) -> Result<T> {
        let options = RequestOptions {
            if_match: revision,
            ..RequestOptions::default()
        };
        self.write_with(method, url, body, options).await
    }

    /// A bulk operation's request (see [`Timeouts::bulk`]).
    async fn write_bulk<B: Serialize, T: DeserializeOwned>(&self, url: Url, body: &B) -> Result<T> {
        self.write_with(Method::POST, url, body, self.bulk_options())
            .await
    }

    fn bulk_options(&self) -> RequestOptions {
        RequestOptions {
            timeout: Some(self.inner.timeouts.bulk),
            ..RequestOptions::default()
        }
    }

    async fn write_with<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
        options: RequestOptions,
    ) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|err| Error::failure("could not encode the request").with_source(err))?;
        let payload = Some(Payload::Json(body.into()));
        let response = self.execute_with(method, url, payload, options).await?;
        error::decode(self, response).await
    }

    async fn delete(&self, url: Url) -> Result<()> {
        self.execute(Method::DELETE, url, None).await?;
        Ok(())
    }

    /// Sends one logical request, retrying what is safe to retry. GETs are naturally
    /// repeatable; every write carries one `Idempotency-Key` across its attempts so the service
    /// applies it once.
    async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Payload<'_>>,
    ) -> Result<Response> {
        self.execute_with(method, url, body, RequestOptions::default())
            .await
    }

    /// [`ApiClient::execute`] with the `options` of this one request.
    async fn execute_with(
        &self,
        method: Method,
        url: Url,
        body: Option<Payload<'_>>,
        options: RequestOptions,
    ) -> Result<Response> {
        let RequestOptions { timeout, if_match } = options;
        let idempotency_key =
            (method != Method::GET).then(|| uuid::Uuid::now_v7().hyphenated().to_string());
        let attempt = || async {
            let started = Instant::now();
            let mut request = self.inner.http.request(method.clone(), url.clone());
            if let Some(timeout) = timeout {
                request = request.timeout(timeout);
            }
            if let Some(key) = &idempotency_key {
                request = request.header(api::IDEMPOTENCY_KEY_HEADER, key);
            }
            if let Some(revision) = if_match {
                request = request.header(reqwest::header::IF_MATCH, format!("\"{revision}\""));
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.make());
            }
            let result = request.send().await;
            if tracing::enabled!(tracing::Level::DEBUG) {
                let outcome = match &result {
                    Ok(response) => response.status().to_string(),
                    Err(err) => error::transport_reason(err),
                };
                tracing::debug!(
                    "{method} {url} -> {outcome} ({} ms)",
                    started.elapsed().as_millis()
                );
            }
            Attempt::check(result).await
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(RETRIES)
            .with_jitter();
        attempt
            .retry(backoff)
            .when(|attempt| {
                attempt.is_retryable() || (method == Method::GET && attempt.dropped_after_sending())
            })
            .adjust(|attempt, delay| {
                // Retry-After replaces our own delay, within reason.
                let wanted = attempt.retry_after();
                match (delay, wanted) {
                    (None, _) => None,
                    (Some(_), Some(wanted)) if wanted > MAX_RETRY_AFTER => None,
                    (Some(delay), wanted) => Some(wanted.unwrap_or(delay)),
                }
            })
            .await
            .map_err(|attempt| attempt.into_error(self, &method, &url))
    }
}
