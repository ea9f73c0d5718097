//! The device API's authentication layer: every request is admitted as a device (its
//! [`DevicePrincipal`] put into the request's extensions) or refused before any route runs.
//!
//! The certificate is the TLS connection's own; behind a TLS-terminating proxy listed in
//! `--trusted-proxy`, a connection that presented none may carry the device's certificate in
//! `X-Forwarded-Client-Cert` (URL-escaped PEM, as nginx's `$ssl_client_escaped_cert`). From any
//! other peer the header is ignored. API keys are refused here.
//!
//! Identity is resolved once per connection (and shared by fingerprint across connections),
//! tagged with the auth epoch read before resolving. Each request reads the epoch fresh (one
//! shared single-row read, see `auth_epoch`) and re-resolves when it moved: the database's
//! triggers bump it when a certificate is revoked, a CA disabled or changed, a device moved,
//! renamed, given another cohort or deleted, so such a change applies to open connections from
//! their next request on, on every replica. The same read gives the offers epoch, which the
//! gate puts into the request's extensions ([`OffersEpoch`]) for the check-in's context cache.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::chain::Presented;
use super::identity;
use super::jitp::Provisioner;
use super::peer::{PeerCertificate, fingerprint};
use super::principal::DevicePrincipal;
use super::refusal::{Reason, Refusal, RefusalLog};
use crate::server::domain::device_updates::contexts::OffersEpoch;
use crate::server::error::ApiError;
use crate::server::state::AppState;
use crate::server::transport::{ClientIp, IpNet};

/// The header a trusted TLS-terminating proxy puts the device's certificate in.
pub const FORWARDED_CERT_HEADER: &str = "x-forwarded-client-cert";

/// Identities kept by fingerprint across connections; past this many the cache starts over.
const CACHE_MAX: usize = 200_000;

pub struct DeviceGate {
    pub state: AppState,
    pub trusted_proxies: Vec<IpNet>,
    refusals: RefusalLog,
    /// Provisions this replica's unknown devices just in time, in batches.
    provisioner: Provisioner,
    /// Admitted identities by certificate fingerprint, all of one epoch.
    identities: Mutex<(i64, HashMap<String, DevicePrincipal>)>,
}

impl DeviceGate {
    pub fn new(state: AppState, trusted_proxies: Vec<IpNet>) -> Arc<DeviceGate> {
        let provisioner = Provisioner::new(state.pool.clone());
        Arc::new(DeviceGate {
            state,
            provisioner,
            trusted_proxies,
            refusals: RefusalLog::default(),
            identities: Mutex::new((i64::MIN, HashMap::new())),
        })
    }

    fn cached(&self, epoch: i64, fingerprint: &str) -> Option<DevicePrincipal> {
        let identities = self.lock();
        (identities.0 == epoch)
            .then(|| identities.1.get(fingerprint).cloned())
            .flatten()
    }

    fn remember(&self, epoch: i64, fingerprint: &str, principal: &DevicePrincipal) {
        let mut identities = self.lock();
        if identities.0 != epoch {
            if identities.0 > epoch {
                // Resolved under an older epoch than the cache holds: stale already.
                return;
            }
            *identities = (epoch, HashMap::new());
        }
        if identities.1.len() >= CACHE_MAX {
            identities.1.clear();
        }
        identities
            .1
            .insert(fingerprint.to_owned(), principal.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (i64, HashMap<String, DevicePrincipal>)> {
        self.identities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn refuse(&self, refusal: &Refusal, client: IpAddr) -> Response {
        self.refusals
            .refuse(&self.state.pool, refusal, client)
            .await
    }
}

/// Where a request's certificate came from.
enum Credential {
    /// The TLS connection's own client certificate.
    Connection(Arc<PeerCertificate>),
    /// A trusted proxy's `X-Forwarded-Client-Cert`.
    Forwarded(Vec<CertificateDer<'static>>),
}

pub async fn authenticate(
    State(gate): State<Arc<DeviceGate>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0)
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip())
        })
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if request.headers().contains_key(header::AUTHORIZATION) {
        let refusal = Refusal::new(
            Reason::ApiKey,
            "the device API does not accept API keys (Authorization header); devices \
             authenticate with their client certificate",
            "drop the Authorization header; operators use the admin API (`--listen`) with API keys",
        );
        return gate.refuse(&refusal, client).await;
    }
    let credential = match credential(&gate, &request) {
        Ok(credential) => credential,
        Err(refusal) => return gate.refuse(&refusal, client).await,
    };
    let Some(epochs) = gate.state.epoch.fresh_epochs().await else {
        return ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            crate::api::ErrorCode::Unavailable,
            "the service could not check device credentials: its database is not answering",
        )
        .with_hint("retry in a moment")
        .into_response();
    };
    let epoch = epochs.auth;
    // What the check-in's context cache is read under: the same read, after the request arrived.
    request.extensions_mut().insert(OffersEpoch(epochs.offers));
    let (chain, fingerprint) = match &credential {
        Credential::Connection(peer) => {
            if let Some(principal) = peer.resolved_under(epoch) {
                request.extensions_mut().insert(principal);
                return next.run(request).await;
            }
            let Some(fingerprint) = peer.fingerprint.clone() else {
                return gate.refuse(&no_certificate(), client).await;
            };
            (peer.chain.clone(), fingerprint)
        }
        Credential::Forwarded(chain) => {
            let Some(leaf) = chain.first() else {
                return gate.refuse(&no_certificate(), client).await;
            };
            (chain.clone(), fingerprint(leaf.as_ref()))
        }
    };
    let principal = match gate.cached(epoch, &fingerprint) {
        Some(principal) => principal,
        None => {
            let Some(presented) = Presented::parse(chain) else {
                let mut refusal = Refusal::new(
                    Reason::BadCertificate,
                    "the client certificate is no X.509 certificate this service can read",
                    "issue the device a standard X.509 client certificate",
                );
                refusal.fingerprint = Some(fingerprint);
                return gate.refuse(&refusal, client).await;
            };
            match identity::resolve(&gate.state.pool, &gate.provisioner, &presented).await {
                Ok(Ok(principal)) => {
                    gate.remember(epoch, &fingerprint, &principal);
                    principal
                }
                Ok(Err(refusal)) => return gate.refuse(&refusal, client).await,
                Err(err) => return err.into_response(),
            }
        }
    };
    if let Credential::Connection(peer) = &credential {
        peer.remember(epoch, &principal);
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

fn no_certificate() -> Refusal {
    Refusal::new(
        Reason::NoCertificate,
        "the TLS connection presented no client certificate",
        "configure the device's TLS client with its certificate and key",
    )
}

/// The connection's certificate; else, from a trusted proxy, the forwarded one.
fn credential(gate: &DeviceGate, request: &Request) -> Result<Credential, Box<Refusal>> {
    let peer = request.extensions().get::<Arc<PeerCertificate>>().cloned();
    if let Some(peer) = peer
        && peer.fingerprint.is_some()
    {
        return Ok(Credential::Connection(peer));
    }
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let trusted =
        from.is_some_and(|ip| crate::server::transport::is_trusted_peer(ip, &gate.trusted_proxies));
    let forwarded = request.headers().get(FORWARDED_CERT_HEADER);
    match (trusted, forwarded) {
        (true, Some(value)) => {
            let pem = percent_decode(value.as_bytes()).ok_or_else(|| Box::new(bad_forwarded()))?;
            let chain = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| Box::new(bad_forwarded()))?;
            if chain.is_empty() {
                return Err(Box::new(bad_forwarded()));
            }
            Ok(Credential::Forwarded(chain))
        }
        _ => Err(Box::new(no_certificate())),
    }
}

fn bad_forwarded() -> Refusal {
    Refusal::new(
        Reason::BadCertificate,
        format!("the {FORWARDED_CERT_HEADER} header holds no URL-escaped PEM certificate"),
        "have the proxy send $ssl_client_escaped_cert (nginx) in that header",
    )
}

/// `%XX` escapes decoded (and `+` kept as it is: PEM's base64 needs it literally).
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn escaped_pem_decodes() {
        assert_eq!(
            percent_decode(b"-----BEGIN%20CERTIFICATE-----%0AMIIB+x/=%0A").as_deref(),
            Some(&b"-----BEGIN CERTIFICATE-----\nMIIB+x/=\n"[..])
        );
        assert_eq!(percent_decode(b"%2"), None);
        assert_eq!(percent_decode(b"%zz"), None);
    }
}
