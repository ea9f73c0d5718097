//! Where simulated devices get their certificates: existing `<identifier>.pem` /
//! `<identifier>.key` pairs in a directory (`--certs`), or issued in memory under a CA
//! directory (`--ca`) for identifiers `sim-0000`, `sim-0001`, …, which the service then
//! provisions just in time.

use std::path::{Path, PathBuf};

use crate::client::device::DeviceIdentity;
use crate::error::{Error, Result, io_error};
use crate::pki::{CaDir, Validity, issue_device_cert};

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

/// The identifier of simulated device number `index`: a function of the number alone (never of
/// the run's size), so separate runs over separate number ranges never name two devices alike.
pub fn identifier(index: usize) -> String {
    format!("sim-{index:04}")
}

/// How long the certificates issued for simulated devices are valid.
const ISSUED_VALIDITY: Validity = Validity { days: 30 };

/// Issues device certificates for devices number `first` to `first + count - 1` under the CA in
/// `ca_dir` (`ca.pem`, `ca.key`, as `fleet ca generate` writes them), in memory: nothing is
/// written.
pub fn issue_identities(ca_dir: &Path, first: usize, count: usize) -> Result<Vec<DeviceIdentity>> {
    let ca = CaDir::open(ca_dir)?;
    (first..first + count)
        .map(|index| {
            let id = identifier(index);
            let issued = issue_device_cert(&ca, &id, ISSUED_VALIDITY)?;
            DeviceIdentity::from_pem(&id, &issued.cert_pem, &issued.key_pem, &id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{issue_identities, load_identities};
    use crate::error::ErrorKind;
    use crate::pki::{CA_CERT_FILE, CA_KEY_FILE, Validity, generate_ca, write_new_files};

    fn ca_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("dir");
        let ca = generate_ca("sim", Validity { days: 3 }).expect("ca");
        write_new_files(
            dir.path(),
            &[
                (CA_CERT_FILE, &ca.cert_pem, false),
                (CA_KEY_FILE, &ca.key_pem, true),
            ],
        )
        .expect("written");
        dir
    }

    #[test]
    fn a_ca_issues_numbered_identities() {
        let dir = ca_dir();
        let ids = issue_identities(dir.path(), 0, 3).expect("issued");
        let names: Vec<&str> = ids.iter().map(|i| i.identifier.as_str()).collect();
        assert_eq!(names, ["sim-0000", "sim-0001", "sim-0002"]);
    }

    #[test]
    fn numbering_starts_at_first_and_keeps_each_numbers_identifier() {
        let dir = ca_dir();
        let ids = issue_identities(dir.path(), 9_998, 3).expect("issued");
        let names: Vec<&str> = ids.iter().map(|i| i.identifier.as_str()).collect();
        assert_eq!(names, ["sim-9998", "sim-9999", "sim-10000"]);
    }

    #[test]
    fn pairs_are_read_in_identifier_order_and_too_few_is_a_usage_error() {
        let ca = ca_dir();
        let certs = tempfile::tempdir().expect("dir");
        let opened = crate::pki::CaDir::open(ca.path()).expect("ca");
        for id in ["b-2", "a-1"] {
            let pair =
                crate::pki::issue_device_cert(&opened, id, Validity { days: 3 }).expect("cert");
            std::fs::write(certs.path().join(format!("{id}.pem")), pair.cert_pem).expect("pem");
            std::fs::write(certs.path().join(format!("{id}.key")), pair.key_pem).expect("key");
        }
        // A certificate without its key is not a device.
        std::fs::write(certs.path().join("lonely.pem"), "x").expect("lonely");
        let all = load_identities(certs.path(), None).expect("all");
        let names: Vec<&str> = all.iter().map(|i| i.identifier.as_str()).collect();
        assert_eq!(names, ["a-1", "b-2"]);
        assert_eq!(
            load_identities(certs.path(), Some(1)).expect("one").len(),
            1
        );
        let err = load_identities(certs.path(), Some(3)).expect_err("too few");
        assert_eq!(err.kind, ErrorKind::Usage);
    }
}
