//! A simulated device's checks on what it downloaded: the size and SHA-256 the offer promised,
//! the digest the server announced in `x-fleet-sha256`, and every Ed25519 signature over the
//! raw SHA-256 digest with the public key the offer names. A failed check is the `failed`
//! report's reason.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::api::device_api::OfferedBinary;
use crate::client::device::Download;

/// Checks `download` against `offered`; `Err` is the reason to report.
pub fn check(offered: &OfferedBinary, download: &Download) -> Result<(), String> {
    let expected = offered.sha256.to_ascii_lowercase();
    if download.size != offered.size {
        return Err(format!(
            "digest mismatch: binary {} ({} {}) is {} bytes, the offer said {}",
            offered.binary_id, offered.artifact, offered.version, download.size, offered.size
        ));
    }
    if download.sha256 != expected {
        return Err(format!(
            "digest mismatch: binary {} ({} {}) has SHA-256 {}, the offer said {}",
            offered.binary_id, offered.artifact, offered.version, download.sha256, expected
        ));
    }
    if let Some(announced) = &download.announced_sha256
        && *announced != expected
    {
        return Err(format!(
            "digest mismatch: the server announced SHA-256 {announced} for binary {}, the offer said {expected}",
            offered.binary_id
        ));
    }
    let digest = decode_hex(&expected).ok_or_else(|| {
        format!("digest mismatch: the offer's SHA-256 `{expected}` is not 64 hex digits")
    })?;
    for signature in &offered.signatures {
        let bad = |why: &str| {
            format!(
                "bad signature: binary {} signature by key `{}` {why}",
                offered.binary_id, signature.key_name
            )
        };
        let key = STANDARD
            .decode(signature.public_key.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
            .ok_or_else(|| bad("has a public key that is not 32 bytes of Ed25519"))?;
        let sig = STANDARD
            .decode(signature.signature.trim())
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or_else(|| bad("is not 64 bytes of base64"))?;
        key.verify_strict(&digest, &sig)
            .map_err(|_| bad("does not verify over the binary's SHA-256"))?;
    }
    Ok(())
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::api::device_api::{OfferedBinary, OfferedSignature};
    use crate::client::device::Download;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ed25519_dalek::{Signer, SigningKey};
    use sha2::{Digest, Sha256};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn offer(content: &[u8], key: &SigningKey) -> (OfferedBinary, Download) {
        let digest = Sha256::digest(content);
        let signature = key.sign(&digest);
        let offered = OfferedBinary {
            binary_id: crate::api::BinaryId::generate(),
            artifact: "app".into(),
            version: "1.1.0".into(),
            target: "armv7".into(),
            size: content.len() as u64,
            sha256: hex(&digest),
            signatures: vec![OfferedSignature {
                key_id: crate::api::SigningKeyId::generate(),
                key_name: "release".into(),
                public_key: STANDARD.encode(key.verifying_key().to_bytes()),
                signature: STANDARD.encode(signature.to_bytes()),
            }],
            url: "/v1/device/binaries/bin_0001".into(),
        };
        let download = Download {
            size: content.len() as u64,
            sha256: hex(&digest),
            announced_sha256: Some(hex(&digest)),
        };
        (offered, download)
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_download_matching_its_offer_passes() {
        let (offered, download) = offer(b"firmware", &key(1));
        assert_eq!(check(&offered, &download), Ok(()));
    }

    #[test]
    fn other_bytes_are_a_digest_mismatch() {
        let (offered, _) = offer(b"firmware", &key(1));
        let (_, corrupted) = offer(b"firmwarX", &key(1));
        let reason = check(&offered, &corrupted).expect_err("corrupted");
        assert!(reason.starts_with("digest mismatch"), "{reason}");
    }

    #[test]
    fn a_short_download_is_a_digest_mismatch() {
        let (offered, mut download) = offer(b"firmware", &key(1));
        download.size -= 1;
        let reason = check(&offered, &download).expect_err("short");
        assert!(reason.starts_with("digest mismatch"), "{reason}");
    }

    #[test]
    fn a_header_disagreeing_with_the_offer_is_a_digest_mismatch() {
        let (offered, mut download) = offer(b"firmware", &key(1));
        download.announced_sha256 = Some("00".repeat(32));
        let reason = check(&offered, &download).expect_err("header");
        assert!(reason.contains("announced"), "{reason}");
    }

    #[test]
    fn a_signature_by_another_key_is_a_bad_signature() {
        let (mut offered, download) = offer(b"firmware", &key(1));
        offered.signatures[0].public_key = STANDARD.encode(key(2).verifying_key().to_bytes());
        let reason = check(&offered, &download).expect_err("wrong key");
        assert!(reason.starts_with("bad signature"), "{reason}");
    }

    #[test]
    fn a_signature_over_other_bytes_is_a_bad_signature() {
        let (mut offered, download) = offer(b"firmware", &key(1));
        let (other, _) = offer(b"other", &key(1));
        offered.signatures[0].signature = other.signatures[0].signature.clone();
        let reason = check(&offered, &download).expect_err("other bytes");
        assert!(reason.starts_with("bad signature"), "{reason}");
    }
}
