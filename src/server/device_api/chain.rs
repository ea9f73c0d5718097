//! Reading a presented client certificate (subject CN, issuer, validity) and checking its chain
//! against one registered CA with rustls-webpki, the CA as the only trust anchor.

use chrono::{DateTime, Utc};
use rustls::pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::peer::fingerprint;
use crate::server::hex::hex;

/// What the listener needs to know of a client certificate.
#[derive(Debug, Clone)]
pub struct Presented {
    /// Leaf first, then what the client sent along (intermediates).
    pub chain: Vec<CertificateDer<'static>>,
    pub fingerprint: String,
    /// The subject's common name: the device's identifier.
    pub common_name: Option<String>,
    /// The subject for people and logs.
    pub subject: String,
    /// Lowercase hex of the serial number's bytes.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The DER issuer names of the chain's certificates: where a registered CA may sit.
    pub issuers: Vec<Vec<u8>>,
}

impl Presented {
    /// `None` when the leaf is no X.509 certificate this service can read.
    pub fn parse(chain: Vec<CertificateDer<'static>>) -> Option<Presented> {
        let leaf = chain.first()?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        let time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0);
        let mut issuers = vec![cert.issuer().as_raw().to_vec()];
        for other in &chain[1..] {
            if let Ok((_, other)) = x509_parser::parse_x509_certificate(other.as_ref()) {
                issuers.push(other.issuer().as_raw().to_vec());
            }
        }
        issuers.dedup();
        Some(Presented {
            fingerprint: fingerprint(leaf.as_ref()),
            common_name,
            subject: cert.subject().to_string(),
            serial: hex(cert.raw_serial()),
            not_before: time(cert.validity().not_before)?,
            not_after: time(cert.validity().not_after)?,
            issuers,
            chain,
        })
    }

    /// The leaf as PEM, for the certificate's row.
    pub fn leaf_pem(&self) -> String {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD
            .encode(self.chain.first().map_or(&[][..], |leaf| leaf.as_ref()));
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }
}

/// How a chain fared against one CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainCheck {
    Trusted,
    /// It chains to the CA, but a certificate on the way is expired or not yet valid.
    Expired,
    /// It does not chain to the CA (another key signed it, or it is not for client auth).
    Untrusted,
}

/// Checks `presented` against `ca_der` as the only trust anchor, at `now`; the client-auth
/// extended key usage is required when the certificate names any.
pub fn check(presented: &Presented, ca_der: &CertificateDer<'_>, now: UnixTime) -> ChainCheck {
    let Some(leaf) = presented.chain.first() else {
        return ChainCheck::Untrusted;
    };
    let Ok(anchor) = webpki::anchor_from_trusted_cert(ca_der) else {
        return ChainCheck::Untrusted;
    };
    let Ok(end_entity) = EndEntityCert::try_from(leaf) else {
        return ChainCheck::Untrusted;
    };
    let anchors = [anchor];
    match end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &presented.chain[1..],
        now,
        KeyUsage::client_auth(),
        None,
        None,
    ) {
        Ok(_) => ChainCheck::Trusted,
        Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => {
            ChainCheck::Expired
        }
        Err(err) => {
            tracing::debug!(error = ?err, fingerprint = %presented.fingerprint,
                "client certificate does not chain to a candidate CA");
            ChainCheck::Untrusted
        }
    }
}
