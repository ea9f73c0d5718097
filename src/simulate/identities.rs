//! Where simulated devices get their certificates: existing `<identifier>.pem` /
//! `<identifier>.key` pairs in a directory (`--certs`), or issued in memory under a CA
//! directory (`--ca`) for identifiers `sim-0000`, `sim-0001`, …, which the service then
//! provisions just in time.

use std::path::{Path, PathBuf};

use crate::client::device::DeviceIdentity;
use crate::error::{Error, Result, io_error};

/// Reads `count` (default: all) certificate/key pairs from `dir`, in identifier order.
pub fn load_identities(dir: &Path, count: Option<usize>) -> Result<Vec<DeviceIdentity>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("read the directory", dir, e))?;
    let mut pairs: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| io_error("read the directory", dir, e))?
            .path();
        if path.extension().is_none_or(|ext| ext != "pem") {
            continue;
        }
        let key = path.with_extension("key");
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if key.is_file() {
            pairs.push((stem.to_owned(), path.clone(), key));
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    if pairs.is_empty() {
        return Err(Error::usage(format!(
            "`{}` holds no device certificates",
            dir.display()
        ))
        .hint("--certs DIR needs <identifier>.pem and <identifier>.key pairs (`fleet device cert issue` writes them)"));
    }
    let wanted = count.unwrap_or(pairs.len());
    if wanted > pairs.len() {
        return Err(Error::usage(format!(
            "--count {wanted} needs {wanted} certificate pairs, but `{}` holds {}",
            dir.display(),
            pairs.len()
        ))
        .hint("lower --count, or issue more with `fleet device cert issue`, or use --ca DIR to issue them on the fly"));
    }
    pairs
        .iter()
        .take(wanted)
        .map(|(identifier, cert, key)| DeviceIdentity::from_files(identifier, cert, key))
        .collect()
}

/// The identifier of simulated device `index`.
pub fn identifier(index: usize) -> String {
    format!("sim-{index:04}")
}

/// Issues `count` device certificates under the CA in `ca_dir`, in memory.
pub fn issue_identities(ca_dir: &Path, count: usize) -> Result<Vec<DeviceIdentity>> {
    issue_with_rcgen_until_pki_lands(ca_dir, count)
}

/// Stand-in for `crate::pki`'s device-certificate issuing, which lands on its own branch; this
/// reads `ca.pem` and `ca.key` from `ca_dir` and signs with rcgen directly. Replaced by the
/// pki module once it is merged.
fn issue_with_rcgen_until_pki_lands(ca_dir: &Path, count: usize) -> Result<Vec<DeviceIdentity>> {
    let cert_path = ca_dir.join("ca.pem");
    let key_path = ca_dir.join("ca.key");
    let cert_pem =
        std::fs::read_to_string(&cert_path).map_err(|e| io_error("read", &cert_path, e))?;
    let key_pem = std::fs::read_to_string(&key_path).map_err(|e| io_error("read", &key_path, e))?;
    let bad = |what: &str, err: rcgen::Error| {
        Error::usage(format!(
            "could not use the CA in `{}`: {what}",
            ca_dir.display()
        ))
        .with_source(err)
        .hint("--ca DIR names a directory written by `fleet ca generate`")
    };
    let ca_key = rcgen::KeyPair::from_pem(&key_pem).map_err(|e| bad("its key", e))?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&cert_pem, ca_key)
        .map_err(|e| bad("its certificate", e))?;
    (0..count)
        .map(|index| {
            let id = identifier(index);
            let key = rcgen::KeyPair::generate().map_err(|e| bad("a new key", e))?;
            let mut params = rcgen::CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, id.clone());
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
            params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            let cert = params
                .signed_by(&key, &issuer)
                .map_err(|e| bad("signing", e))?;
            DeviceIdentity::from_pem(&id, &cert.pem(), &key.serialize_pem(), &id)
        })
        .collect()
}
