//! A small local PKI for development and factories: make a CA (ECDSA P-256), keep it in a
//! directory (`ca.pem`, `ca.key`), and issue device certificates under it (subject CN = the
//! device's identifier, client authentication). Key files are written with mode 0600 and no
//! file is ever overwritten. Used by `fleet ca generate`, `fleet device cert issue` and the
//! simulator; needs no service.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Datelike as _, Utc};
use rand::RngCore as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

use crate::error::{Error, Result, io_error};

/// The certificate file of a CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The private key file of a CA directory.
pub const CA_KEY_FILE: &str = "ca.key";

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertAndKey {
    pub cert_pem: String,
    pub key_pem: String,
}

/// How long a certificate is valid, from the start of today (UTC).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub days: u32,
}

fn failure(what: &str, err: rcgen::Error) -> Error {
    Error::failure(format!("could not {what}: {err}"))
}

/// Fills in validity (from today, 00:00 UTC) and a random positive serial number.
fn base_params(validity: Validity) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())
        .map_err(|err| failure("prepare a certificate", err))?;
    let today = Utc::now().date_naive();
    let month = u8::try_from(today.month()).unwrap_or(1);
    let day = u8::try_from(today.day()).unwrap_or(1);
    params.not_before = rcgen::date_time_ymd(today.year(), month, day);
    params.not_after =
        params.not_before + Duration::from_secs(u64::from(validity.days) * 24 * 60 * 60);
    let mut serial = [0u8; 16];
    rand::rng().fill_bytes(&mut serial);
    // The top bit clear: a serial is a positive integer.
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(params)
}

/// A new self-signed CA certificate with subject CN `name`, allowed to sign certificates.
pub fn generate_ca(name: &str, validity: Validity) -> Result<CertAndKey> {
    let mut params = base_params(validity)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(|err| failure("generate a key", err))?;
    let cert = params
        .self_signed(&key)
        .map_err(|err| failure("sign the CA certificate", err))?;
    Ok(CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A CA read from a directory holding `ca.pem` and `ca.key`, ready to issue certificates.
pub struct CaDir {
    pub dir: PathBuf,
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl CaDir {
    /// Reads `dir/ca.pem` and `dir/ca.key`.
    pub fn open(dir: &Path) -> Result<CaDir> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let cert_pem =
            std::fs::read_to_string(&cert_path).map_err(|err| io_error("read", &cert_path, err))?;
        let key_pem =
            std::fs::read_to_string(&key_path).map_err(|err| io_error("read", &key_path, err))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|err| {
            Error::usage(format!(
                "`{}` is not a private key this tool can use: {err}",
                key_path.display()
            ))
            .hint("expected an unencrypted PKCS#8 key (`-----BEGIN PRIVATE KEY-----`), as `fleet ca generate` writes")
        })?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|err| {
            Error::usage(format!(
                "`{}` is not a CA certificate this tool can read: {err}",
                cert_path.display()
            ))
        })?;
        Ok(CaDir {
            dir: dir.to_owned(),
            cert_pem,
            issuer,
        })
    }
}

/// A new device certificate under `ca` with subject CN `identifier`, for TLS client
/// authentication.
pub fn issue_device_cert(ca: &CaDir, identifier: &str, validity: Validity) -> Result<CertAndKey> {
    let mut params = base_params(validity)?;
    params
        .distinguished_name
        .push(DnType::CommonName, identifier);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(|err| failure("generate a key", err))?;
    let cert = params
        .signed_by(&key, &ca.issuer)
        .map_err(|err| failure("sign the device certificate", err))?;
    Ok(CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Writes `files` (name, contents, private?) into `dir` (created if missing), all or none:
/// refused before anything is written when one of them exists. Private files get mode 0600.
pub fn write_new_files(dir: &Path, files: &[(&str, &str, bool)]) -> Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = files.iter().map(|(name, _, _)| dir.join(name)).collect();
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(exists(existing));
    }
    std::fs::create_dir_all(dir).map_err(|err| io_error("create", dir, err))?;
    for (path, (_, contents, private)) in paths.iter().zip(files) {
        write_new(path, contents, *private)?;
    }
    Ok(paths)
}

/// A file that exists is a usage error (exit 2), as for `firmware pull --out`: the command
/// line needs another directory; keys are never overwritten.
fn exists(path: &Path) -> Error {
    Error::usage(format!("`{}` already exists", path.display()))
        .hint("certificates and keys are never overwritten: choose another --out DIR")
}

fn write_new(path: &Path, contents: &str, private: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            io_error("create", path, err)
        }
    })?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| io_error("write", path, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_in_a_directory_issues_device_certificates() {
        let dir = tempfile::tempdir().expect("dir");
        let ca = generate_ca("factory", Validity { days: 30 }).expect("ca");
        write_new_files(
            dir.path(),
            &[
                (CA_CERT_FILE, &ca.cert_pem, false),
                (CA_KEY_FILE, &ca.key_pem, true),
            ],
        )
        .expect("written");
        let opened = CaDir::open(dir.path()).expect("open");
        let device = issue_device_cert(&opened, "sn-1", Validity { days: 30 }).expect("issue");
        assert!(device.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(device.key_pem.contains("PRIVATE KEY"));
        let again = write_new_files(dir.path(), &[(CA_KEY_FILE, "x", true)]);
        assert_eq!(again.expect_err("exists").exit_code(), 2);
    }
}
