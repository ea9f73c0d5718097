//! One device's keep-alive HTTP/1.1 connection to the device API over mutual TLS, and the
//! device API's calls on it. A connection the server closed (idle timeout, restart) is opened
//! again once, transparently, on the next request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::failure;
use crate::api::device_api::{
    CHECK_IN_PATH, CheckIn, CheckInAnswer, DeviceUpdate, PING_PATH, REPORTS_PATH, SHA256_HEADER,
    UpdateReport,
};
use crate::error::{Error, ErrorKind, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the device API listens, from `--device-url https://HOST:PORT`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    /// `HOST:PORT`, for the `Host` header and messages.
    authority: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| {
            Error::usage(format!("--device-url `{url}` {why}"))
                .hint("give the device listener's URL, e.g. https://127.0.0.1:8443")
        };
        let parsed = reqwest::Url::parse(url).map_err(|_| bad("is not a URL"))?;
        if parsed.scheme() != "https" {
            return Err(bad(
                "must start with https:// (the device API is mutual TLS only)",
            ));
        }
        if parsed.path() != "/" && !parsed.path().is_empty() {
            return Err(bad("must not have a path"));
        }
        let Some(host_text) = parsed.host_str() else {
            return Err(bad("has no host"));
        };
        let bracketed = host_text.starts_with('[');
        let host = host_text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone())
            .map_err(|_| bad("has a host that cannot be a TLS server name"))?;
        let authority = if bracketed {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Endpoint {
            host,
            port,
            server_name,
            authority,
        })
    }

    /// `HOST:PORT`.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

/// What a download received: its length and SHA-256, and the digest the server announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes received.
    pub sha256: String,
    /// The `x-fleet-sha256` header, when the answer carried one.
    pub announced_sha256: Option<String>,
}

/// One device's connection. Not shared: a device sends one request at a time.
pub struct DeviceConnection {
    identifier: Arc<str>,
    endpoint: Arc<Endpoint>,
    tls: Arc<ClientConfig>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl DeviceConnection {
    /// A connection that opens on its first request.
    pub fn new(identifier: &str, endpoint: Arc<Endpoint>, tls: Arc<ClientConfig>) -> Self {
        DeviceConnection {
            identifier: identifier.into(),
            endpoint,
            tls,
            sender: None,
        }
    }

    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// Opens TCP, TLS (presenting the device's certificate) and HTTP/1.1.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>> {
        let at = self.endpoint.authority();
        let fail = |err: Box<dyn std::error::Error + Send + Sync>| {
            failure::transport(&self.identifier, at, err)
        };
        let open = async {
            let tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
                .await
                .map_err(|e| fail(Box::new(e)))?;
            // Requests are small and answered at once: do not wait to fill segments.
            tcp.set_nodelay(true).map_err(|e| fail(Box::new(e)))?;
            let tls = TlsConnector::from(self.tls.clone())
                .connect(self.endpoint.server_name.clone(), tcp)
                .await
                .map_err(|e| fail(Box::new(e)))?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| fail(Box::new(e)))?;
            // The connection's I/O runs as its own task; it ends when the sender is dropped
            // or the server closes the connection.
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(sender)
        };
        tokio::time::timeout(CONNECT_TIMEOUT, open)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "connecting to the device API at {at} took longer than {CONNECT_TIMEOUT:?}"
                    ),
                )
            })?
    }

    /// Sends one request, on the open connection when there is one. A request that fails on
    /// a reused connection is tried once more on a new one: the server may have closed it
    /// while it was idle, which the client only learns by writing.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<hyper::body::Incoming>> {
        let reused = self.sender.as_ref().is_some_and(|s| !s.is_closed());
        match self.send_once(&method, path, body.clone()).await {
            Ok(response) => Ok(response),
            Err(err) if reused && err.kind == ErrorKind::Unavailable => {
                self.sender = None;
                self.send_once(&method, path, body).await
            }
            Err(err) => Err(err),
        }
    }

    async fn send_once(
        &mut self,
        method: &Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<hyper::body::Incoming>> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        let at = self.endpoint.authority().to_owned();
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(HOST, &at);
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(body)).map_err(|err| {
            Error::failure(format!("could not build the request to {path}")).with_source(err)
        })?;
        let exchange = async {
            sender
                .ready()
                .await
                .map_err(|e| failure::transport(&self.identifier, &at, Box::new(e)))?;
            sender
                .send_request(request)
                .await
                .map_err(|e| failure::transport(&self.identifier, &at, Box::new(e)))
        };
        let response = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("the device API at {at} did not answer {method} {path} within {REQUEST_TIMEOUT:?}"),
                )
            })??;
        self.sender = Some(sender);
        Ok(response)
    }

    /// Reads a whole answer body.
    async fn body(
        &mut self,
        response: Response<hyper::body::Incoming>,
    ) -> Result<(StatusCode, Bytes)> {
        let status = response.status();
        let at = self.endpoint.authority().to_owned();
        let read = response.into_body().collect();
        let bytes = tokio::time::timeout(REQUEST_TIMEOUT, read)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("the answer from {at} stopped arriving"),
                )
            })?
            .map_err(|e| failure::transport(&self.identifier, &at, Box::new(e)))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &mut self,
        what: &str,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let encoded = serde_json::to_vec(body).map_err(|err| {
            Error::failure(format!("could not encode the {what}")).with_source(err)
        })?;
        let response = self.send(Method::POST, path, Bytes::from(encoded)).await?;
        let (status, bytes) = self.body(response).await?;
        if !status.is_success() {
            return Err(failure::status(&self.identifier, what, status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|err| {
            Error::new(
                ErrorKind::Unavailable,
                format!("the device API answered the {what} of device `{}` with a body this version does not understand", self.identifier),
            )
            .with_source(err)
        })
    }

    /// `POST /v1/device/check-in`.
    pub async fn check_in(&mut self, body: &CheckIn) -> Result<CheckInAnswer> {
        self.call("check-in", CHECK_IN_PATH, body).await
    }

    /// `POST /v1/device/reports`.
    pub async fn report(&mut self, report: &UpdateReport) -> Result<DeviceUpdate> {
        self.call("update report", REPORTS_PATH, report).await
    }

    /// `GET /v1/device/ping`: authenticated, does nothing.
    pub async fn ping(&mut self) -> Result<()> {
        let response = self.send(Method::GET, PING_PATH, Bytes::new()).await?;
        let (status, bytes) = self.body(response).await?;
        if !status.is_success() {
            return Err(failure::status(&self.identifier, "ping", status, &bytes));
        }
        Ok(())
    }

    /// `GET` a binary on the device API (`path` as the offer gives it), hashing it as it
    /// arrives: nothing of it is kept.
    pub async fn download(&mut self, path: &str) -> Result<Download> {
        let response = self.send(Method::GET, path, Bytes::new()).await?;
        let status = response.status();
        if !status.is_success() {
            let (status, bytes) = self.body(response).await?;
            return Err(failure::status(
                &self.identifier,
                "download",
                status,
                &bytes,
            ));
        }
        let announced_sha256 = response
            .headers()
            .get(SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase());
        let at = self.endpoint.authority().to_owned();
        let mut body = response.into_body();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            let frame = tokio::time::timeout(REQUEST_TIMEOUT, body.frame())
                .await
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Unavailable,
                        format!("the download of {path} from {at} stalled"),
                    )
                })?;
            let Some(frame) = frame else { break };
            let frame =
                frame.map_err(|e| failure::transport(&self.identifier, &at, Box::new(e)))?;
            if let Ok(data) = frame.into_data() {
                size += data.len() as u64;
                hasher.update(&data);
            }
        }
        Ok(Download {
            size,
            sha256: hex(&hasher.finalize()),
            announced_sha256,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn the_device_url_must_be_https_without_a_path() {
        let ok = Endpoint::parse("https://127.0.0.1:8443").expect("valid");
        assert_eq!(ok.authority(), "127.0.0.1:8443");
        assert_eq!(
            Endpoint::parse("https://[::1]:9").expect("v6").authority(),
            "[::1]:9"
        );
        for bad in ["http://127.0.0.1:8443", "https://h:1/v1", "not a url"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
