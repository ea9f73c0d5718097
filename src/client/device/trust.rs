//! How a device trusts the device API's server certificate: pinned by its SHA-256 fingerprint
//! (the self-signed certificate `fleet server` prints at start), chained to a CA the operator
//! names, or — for development only, and said so on every run — not checked at all. The TLS
//! handshake's signatures are verified in every case.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use super::identity::DeviceIdentity;
use crate::error::{Error, Result};

/// The ways a device may trust the server.
#[derive(Debug, Clone)]
pub enum ServerTrust {
    /// The server's certificate must have exactly this SHA-256 (over its DER).
    Fingerprint([u8; 32]),
    /// The server's certificate must chain to one of these and name the host.
    Ca(Vec<CertificateDer<'static>>),
    /// Any certificate (development only).
    Insecure,
}

/// Reads a SHA-256 fingerprint as 64 hex digits, with or without `:` separators and an
/// optional `sha256:` / `SHA256:` prefix, in either case.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32]> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("sha256:")
        .or_else(|| trimmed.strip_prefix("SHA256:"))
        .unwrap_or(trimmed);
    let hex: String = body.chars().filter(|c| *c != ':').collect();
    let bad = || {
        Error::usage(format!("`{text}` is not a SHA-256 fingerprint"))
            .hint("give the 64 hex digits `fleet server` prints for its device certificate (colons allowed)")
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

impl ServerTrust {
    /// Reads a CA bundle (PEM) for [`ServerTrust::Ca`].
    pub fn ca_from_pem(pem: &str, source: &str) -> Result<ServerTrust> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| {
                Error::usage(format!("could not read the CA certificates in `{source}`"))
                    .with_source(anyhow::anyhow!("{err}"))
            })?;
        if certs.is_empty() {
            return Err(Error::usage(format!("`{source}` holds no PEM certificate")));
        }
        Ok(ServerTrust::Ca(certs))
    }
}

/// Shared by every device of a run: the crypto provider and the server verifier; each device
/// gets its own small [`ClientConfig`] with its certificate.
#[derive(Debug, Clone)]
pub struct DeviceTls {
    provider: Arc<CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
}

impl DeviceTls {
    pub fn new(trust: &ServerTrust) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = match trust {
            ServerTrust::Fingerprint(pin) => Arc::new(PinnedServer {
                pin: Some(*pin),
                algorithms,
            }),
            ServerTrust::Insecure => Arc::new(PinnedServer {
                pin: None,
                algorithms,
            }),
            ServerTrust::Ca(certs) => {
                let mut roots = RootCertStore::empty();
                for cert in certs {
                    roots.add(cert.clone()).map_err(|err| {
                        Error::usage("a certificate of --server-ca cannot be a trust anchor")
                            .with_source(err)
                    })?;
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|err| {
                        Error::usage("could not use --server-ca to verify the server")
                            .with_source(err)
                    })?
            }
        };
        Ok(DeviceTls { provider, verifier })
    }

    /// The TLS configuration one device connects with: HTTP/1.1, its client certificate.
    pub fn config_for(&self, identity: &DeviceIdentity) -> Result<Arc<ClientConfig>> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::failure("could not set up TLS").with_source(err))?
            .dangerous()
            .with_custom_certificate_verifier(self.verifier.clone())
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|err| {
                Error::usage(format!(
                    "the certificate and key of device `{}` cannot be used for TLS",
                    identity.identifier
                ))
                .with_source(err)
                .hint("check that the key belongs to the certificate")
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Accepts exactly the certificate with the pinned SHA-256, or with no pin (`--insecure`) any
/// certificate; either way the handshake signatures are checked.
struct PinnedServer {
    pin: Option<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for PinnedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pin {
            Some(pin) => write!(f, "PinnedServer({})", hex(pin)),
            None => f.write_str("PinnedServer(any)"),
        }
    }
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(pin) = &self.pin else {
            return Ok(ServerCertVerified::assertion());
        };
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if &seen == pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate has SHA-256 fingerprint {}, not the pinned {}",
                hex(&seen),
                hex(pin)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_fingerprint;

    #[test]
    fn fingerprints_are_read_with_or_without_colons_and_prefix() {
        let plain = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        let expected = [0xabu8; 32];
        assert_eq!(parse_fingerprint(&plain).expect("plain"), expected);
        assert_eq!(parse_fingerprint(&colons).expect("colons"), expected);
        assert_eq!(
            parse_fingerprint(&format!("SHA256:{plain}")).expect("prefix"),
            expected
        );
    }

    #[test]
    fn a_short_or_non_hex_fingerprint_is_a_usage_error() {
        assert!(parse_fingerprint("abcd").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }
}
