//! Reading the X.509 certificates operators upload (CA certificates and device certificates):
//! one PEM certificate in, the facts the service stores and checks out (fingerprint, subject as
//! DER and as RFC 4514 text, issuer, serial, validity, CA constraints, common name).

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::X509Name;

use crate::api::device_cert::MAX_PEM_CHARS;

/// One certificate, parsed: its DER (to parse again where the borrowed view is needed, e.g. to
/// verify a signature) and what the service records about it.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub pem: String,
    pub der: Vec<u8>,
    /// Lowercase hex SHA-256 of the DER.
    pub fingerprint: String,
    pub subject: String,
    pub subject_der: Vec<u8>,
    pub issuer: String,
    pub issuer_der: Vec<u8>,
    /// The subject's first common name, when it has one a string type can hold.
    pub common_name: Option<String>,
    /// Lowercase hex.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// Basic constraints say `cA`.
    pub is_ca: bool,
    /// No key usage extension, or one that allows `keyCertSign`.
    pub may_sign_certificates: bool,
}

/// Parses `pem`, which must hold exactly one block, a `CERTIFICATE`; `Err` says what is wrong
/// in words meant for the person who uploaded it.
pub fn parse_one(pem: &str) -> Result<CertInfo, String> {
    // Characters, as the OpenAPI `maxLength` counts them.
    if pem.chars().count() > MAX_PEM_CHARS {
        return Err(format!(
            "is longer than {MAX_PEM_CHARS} characters; send one certificate in PEM"
        ));
    }
    let mut blocks = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|err| format!("is not valid PEM ({err})"))?;
        blocks.push(block);
    }
    let block = match blocks.as_slice() {
        [] => return Err("holds no PEM block; expected one `-----BEGIN CERTIFICATE-----`".into()),
        [one] => one,
        more => {
            return Err(format!(
                "holds {} PEM blocks ({}); send exactly one certificate",
                more.len(),
                more.iter()
                    .map(|b| b.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    if block.label != "CERTIFICATE" {
        return Err(format!(
            "holds a `{}` PEM block, not a `CERTIFICATE`",
            block.label
        ));
    }
    let der = block.contents.clone();
    let (rest, cert) = X509Certificate::from_der(&der)
        .map_err(|err| format!("is not an X.509 certificate ({err})"))?;
    if !rest.is_empty() {
        return Err("has bytes after the certificate's DER".into());
    }
    let basic = cert
        .basic_constraints()
        .map_err(|err| format!("has unreadable basic constraints ({err})"))?;
    let usage = cert
        .key_usage()
        .map_err(|err| format!("has an unreadable key usage ({err})"))?;
    let validity = cert.validity();
    let info = CertInfo {
        pem: pem.trim().to_owned() + "\n",
        fingerprint: hex(&Sha256::digest(&der)),
        subject: rfc4514(cert.subject()),
        subject_der: cert.subject().as_raw().to_vec(),
        issuer: rfc4514(cert.issuer()),
        issuer_der: cert.issuer().as_raw().to_vec(),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        serial: hex(cert.raw_serial()),
        not_before: time(validity.not_before.timestamp())?,
        not_after: time(validity.not_after.timestamp())?,
        is_ca: basic.is_some_and(|b| b.value.ca),
        may_sign_certificates: usage.is_none_or(|u| u.value.key_cert_sign()),
        der: Vec::new(),
    };
    Ok(CertInfo { der, ..info })
}

/// Whether `issuer` (a CA certificate's DER) signed `cert` (a certificate's DER).
pub fn signed_by(cert: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, issuer))) = (
        X509Certificate::from_der(cert),
        X509Certificate::from_der(issuer),
    ) else {
        return false;
    };
    cert.verify_signature(Some(issuer.public_key())).is_ok()
}

fn time(seconds: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| format!("has a validity time out of range ({seconds} s)"))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A distinguished name as RFC 4514 writes it: the last RDN first, `,` between RDNs, `+`
/// inside one, short attribute names where known, special characters escaped; values that
/// are not strings as `#` and their DER in hex.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type();
                    let key = oid2abbrev(oid, oid_registry())
                        .map(str::to_owned)
                        .unwrap_or_else(|_| oid.to_id_string());
                    let value = match atv.as_str() {
                        Ok(text) => escape(text),
                        Err(_) => format!("#{}", hex(atv.attr_value().data)),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        if c.is_control() {
            out.push_str(&format!("\\{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem(name: &str) -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Acme, Inc.");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("sign").pem()
    }

    #[test]
    fn reads_a_ca_certificate() {
        let info = parse_one(&ca_pem("factory")).expect("parsed");
        assert!(info.is_ca && info.may_sign_certificates);
        assert_eq!(info.common_name.as_deref(), Some("factory"));
        assert_eq!(info.subject, "O=Acme\\, Inc.,CN=factory");
        assert_eq!(info.fingerprint.len(), 64);
        assert_eq!(info.subject_der, info.issuer_der);
        assert!(signed_by(&info.der, &info.der));
    }

    #[test]
    fn refuses_what_is_not_one_certificate() {
        let one = ca_pem("a");
        let two = format!("{one}{}", ca_pem("b"));
        assert!(parse_one(&two).expect_err("two").contains("2 PEM blocks"));
        assert!(parse_one("hello").expect_err("garbage").contains("no PEM"));
        let key = rcgen::KeyPair::generate().expect("key").serialize_pem();
        assert!(parse_one(&key).expect_err("key").contains("PRIVATE KEY"));
    }

    #[test]
    fn a_certificate_padded_past_the_documented_length_is_refused() {
        let one = ca_pem("a");
        let fits = format!("{one}{}", "\n".repeat(MAX_PEM_CHARS - one.len()));
        assert!(parse_one(&fits).is_ok());
        let over = format!("{fits}\n");
        assert!(
            parse_one(&over)
                .expect_err("long")
                .contains("longer than 65536")
        );
    }
}
