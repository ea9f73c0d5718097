//! A device's identity: its certificate chain and private key, read from PEM, and the
//! identifier (subject CN) the service knows it by.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result, io_error};

/// What a device presents on the device API: its certificate (chain, leaf first) and key.
#[derive(Debug)]
pub struct DeviceIdentity {
    /// The device's identifier, which is its certificate's subject CN.
    pub identifier: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl DeviceIdentity {
    /// Reads a certificate chain and a private key (PKCS#8, SEC1 or PKCS#1) from PEM text.
    /// `source` names where they came from, for the error message.
    pub fn from_pem(identifier: &str, cert_pem: &str, key_pem: &str, source: &str) -> Result<Self> {
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| {
                Error::usage(format!("could not read the certificate of `{source}`"))
                    .with_source(anyhow::anyhow!("{err}"))
                    .hint("the file must hold PEM `CERTIFICATE` blocks, the device's first")
            })?;
        if chain.is_empty() {
            return Err(Error::usage(format!("`{source}` holds no PEM certificate"))
                .hint("the file must hold PEM `CERTIFICATE` blocks, the device's first"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|err| {
            Error::usage(format!("could not read the private key of `{source}`"))
                .with_source(anyhow::anyhow!("{err}"))
                .hint("the key file must hold one PEM private key (PKCS#8, SEC1 or PKCS#1)")
        })?;
        Ok(DeviceIdentity {
            identifier: identifier.to_owned(),
            chain,
            key,
        })
    }

    /// Reads `<cert>` and `<key>` files; the identifier is given by the caller (the file stem).
    pub fn from_files(identifier: &str, cert: &Path, key: &Path) -> Result<Self> {
        let cert_pem = std::fs::read_to_string(cert).map_err(|e| io_error("read", cert, e))?;
        let key_pem = std::fs::read_to_string(key).map_err(|e| io_error("read", key, e))?;
        Self::from_pem(identifier, &cert_pem, &key_pem, &cert.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::DeviceIdentity;
    use crate::error::ErrorKind;

    fn pair() -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["dev-1".to_owned()]).expect("params");
        let cert = params.self_signed(&key).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn reads_a_certificate_and_its_key() {
        let (cert, key) = pair();
        let identity = DeviceIdentity::from_pem("dev-1", &cert, &key, "dev-1.pem").expect("read");
        assert_eq!(identity.identifier, "dev-1");
        assert_eq!(identity.chain.len(), 1);
    }

    #[test]
    fn a_file_without_certificates_is_a_usage_error_naming_it() {
        let (_, key) = pair();
        let err = DeviceIdentity::from_pem("dev-1", "nothing here", &key, "dev-1.pem")
            .expect_err("no certificate");
        assert_eq!(err.kind, ErrorKind::Usage);
        assert!(err.message.contains("dev-1.pem"), "{}", err.message);
    }

    #[test]
    fn a_missing_key_is_a_usage_error() {
        let (cert, _) = pair();
        let err = DeviceIdentity::from_pem("dev-1", &cert, "", "dev-1.pem").expect_err("no key");
        assert_eq!(err.kind, ErrorKind::Usage);
        assert!(err.message.contains("private key"), "{}", err.message);
    }
}
