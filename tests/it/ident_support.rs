//! Helpers for the identity tests (`cas`, `device_certs`, `pki`): CA and device certificates
//! made in process, good ones through `fleet::pki` and deliberately bad ones with rcgen.

use std::path::Path;

use fleet::pki::{self, CaDir, CertAndKey, Validity};
use serde_json::{Value, json};

use crate::api_support::Api;

const YEAR: Validity = Validity { days: 365 };

/// A fresh self-signed CA certificate and key.
pub fn ca(name: &str) -> CertAndKey {
    pki::generate_ca(name, YEAR).expect("generate a CA")
}

/// A fresh CA written to `dir` (ca.pem, ca.key) and opened for issuing.
pub fn ca_dir(dir: &Path, name: &str) -> CaDir {
    let ca = ca(name);
    pki::write_new_files(
        dir,
        &[
            (pki::CA_CERT_FILE, &ca.cert_pem, false),
            (pki::CA_KEY_FILE, &ca.key_pem, true),
        ],
    )
    .expect("write the CA");
    CaDir::open(dir).expect("open the CA")
}

/// A device certificate for `identifier` under `ca`.
pub fn device_cert(ca: &CaDir, identifier: &str) -> String {
    pki::issue_device_cert(ca, identifier, YEAR)
        .expect("issue")
        .cert_pem
}

fn params(cn: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params
}

fn self_signed(params: &rcgen::CertificateParams) -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    params.self_signed(&key).expect("sign").pem()
}

/// A certificate without basic constraints CA:TRUE.
pub fn not_a_ca() -> String {
    self_signed(&params("leaf"))
}

/// A CA certificate whose validity ended in 2021.
pub fn expired_ca() -> String {
    let mut params = params("old-ca");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    self_signed(&params)
}

/// A CA certificate whose key usage leaves out `keyCertSign`.
pub fn ca_that_cannot_sign() -> String {
    let mut params = params("no-sign-ca");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    self_signed(&params)
}

/// Registers `pem` as CA `name` of `product` and returns it, asserting 201.
pub async fn add_ca(api: &Api, product: &str, name: &str, pem: &str) -> Value {
    let resp = api
        .post(
            &format!("/v1/products/{product}/cas"),
            json!({ "name": name, "certificate": pem }),
        )
        .await;
    assert_eq!(resp.status, 201, "add CA `{name}`: {}", resp.body);
    resp.body
}

/// Registers `pem` for `device` and returns it, asserting 201.
pub async fn add_cert(api: &Api, device: &str, pem: &str) -> Value {
    let resp = api
        .post(
            &format!("/v1/devices/{device}/certificates"),
            json!({ "certificate": pem }),
        )
        .await;
    assert_eq!(resp.status, 201, "add cert for `{device}`: {}", resp.body);
    resp.body
}

/// The `field` names of a 422's details.
pub fn fields(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Lowercase hex SHA-256 of a PEM certificate's DER.
pub fn fingerprint(pem: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
