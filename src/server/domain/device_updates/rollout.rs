//! Which devices a release reaches at a rollout percentage: each device has a stable bucket
//! 0–99 per release, and is inside the rollout iff its bucket is below the percentage. The
//! bucket never changes, so raising the percentage only adds devices (a device inside 10% is
//! inside at 20%), and the same device lands in different buckets for different releases (the
//! first 10% of one release are not always the same devices).

use sha2::{Digest, Sha256};

use crate::api::{DeviceId, ReleaseId};

/// The device's bucket for the release: the first 8 bytes of SHA-256 over `release/device`,
/// big-endian, modulo 100.
pub fn bucket(release_id: &ReleaseId, device_id: &DeviceId) -> u8 {
    let mut hasher = Sha256::new();
    hasher.update(release_id.as_str().as_bytes());
    hasher.update(b"/");
    hasher.update(device_id.as_str().as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // `% 100` is below 100, so it fits.
    u8::try_from(u64::from_be_bytes(first) % 100).unwrap_or(99)
}

/// Whether the release at `percent` reaches the device.
pub fn reaches(release_id: &ReleaseId, device_id: &DeviceId, percent: u8) -> bool {
    bucket(release_id, device_id) < percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_reaches_nobody_and_a_hundred_everybody() {
        let release = ReleaseId::generate();
        for _ in 0..200 {
            let device = DeviceId::generate();
            assert!(!reaches(&release, &device, 0));
            assert!(reaches(&release, &device, 100));
        }
    }

    /// The bucket is part of what operators rely on (who got a rollout's first 10%): it must
    /// not change between versions. These are SHA-256 of `release/device`, computed apart.
    #[test]
    fn the_bucket_is_pinned_to_sha256_of_release_and_device() {
        let release = ReleaseId::parse("rel_0190a1b2c3d4e5f60718293a4b5c6d7e").expect("id");
        let device = |id: &str| DeviceId::parse(id).expect("id");
        assert_eq!(
            bucket(&release, &device("dev_0190a1b2c3d4e5f60718293a4b5c6d7f")),
            69
        );
        assert_eq!(
            bucket(&release, &device("dev_0190a1b2c3d4e5f60718293a4b5c6d7a")),
            15
        );
    }
}
