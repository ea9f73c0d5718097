//! The update a device is offered now, resolved on every check-in and every download:
//!
//! - the release is the newest of the device's cohort (none without a cohort), and only if it
//!   is of the device's product and the device is not quarantined;
//! - the device must be inside the rollout ([`super::rollout`]);
//! - a halted release is offered only to devices that reported `downloading` or `installing`
//!   for it, so they can finish; no other device starts it;
//! - the binaries are the bundle's for the device's target: the target an operator set on the
//!   device, else the one the device reports (in this check-in, else its last stored one); a
//!   device whose target is unknown is offered nothing, since no binary can be chosen for it;
//! - nothing when the device already runs every offered artifact at the offered version;
//! - nothing when the device reported `succeeded` for the release; after `failed` or
//!   `rolled_back` the release is offered again only if it is `required` (an optional update
//!   that failed waits for the operator: a new release, or `required`).
//!
//! Cost: one indexed statement for the device and its current release; the binaries of a
//! (bundle, target) come from a cache, which needs no invalidation because a bundle's binaries
//! and their size, digest, artifact, version and blob location never change (bundles are
//! immutable, ready binaries too); signatures can be added later, so they are read fresh, and
//! only when an update is actually offered. Download URLs are made for each answer
//! ([`super::links`]), so a presigned one never outlives its life in a cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::links::DownloadLinks;
use super::rollout;
use crate::api::device_api::UpdateState;
use crate::api::device_api::{OfferedBinary, OfferedSignature, RunningArtifact, UpdateOffer};
use crate::api::{BundleId, DeviceId, ProductId};
use crate::server::store::device_offers::{self, BundleBinary, CurrentRelease, DeviceContext};
use crate::server::store::{Conn, LazyConn};

/// (bundle, target) pairs kept; past that the cache starts over (a handful of bundles are
/// current at any time).
const CACHED_BUNDLES: usize = 1024;

/// The binaries of each (bundle, target) resolved lately.
#[derive(Debug, Default)]
pub struct BundleCache(Mutex<Cached>);

/// (bundle, target) to its binaries for that target.
type Cached = HashMap<(BundleId, String), Arc<Vec<BundleBinary>>>;

impl BundleCache {
    /// The ready binaries of `bundle_id` for `target`, from the cache or the database.
    pub async fn binaries(
        &self,
        conn: &mut LazyConn<'_>,
        bundle_id: &BundleId,
        target: &str,
    ) -> sqlx::Result<Arc<Vec<BundleBinary>>> {
        let key = (bundle_id.clone(), target.to_owned());
        if let Some(hit) = self.lock().get(&key) {
            return Ok(hit.clone());
        }
        let binaries =
            Arc::new(device_offers::bundle_binaries(conn.get().await?, bundle_id, target).await?);
        let mut cache = self.lock();
        if cache.len() >= CACHED_BUNDLES {
            cache.clear();
        }
        cache.insert(key, binaries.clone());
        Ok(binaries)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The device's target for choosing binaries (see the module documentation).
pub fn target_of<'a>(context: &'a DeviceContext, reported_now: Option<&'a str>) -> Option<&'a str> {
    context
        .target
        .as_deref()
        .or(reported_now)
        .or(context.reported_target.as_deref())
}

/// The release the device is to take, before looking at binaries: `None` for a quarantined
/// device, a device without a current release, a release of another product, a device
/// outside the rollout, or one that is done with the release.
pub fn eligible_release<'a>(
    device_id: &DeviceId,
    product_id: &ProductId,
    context: &'a DeviceContext,
) -> Option<&'a CurrentRelease> {
    if context.quarantined || context.product_id != *product_id {
        return None;
    }
    let release = context.release.as_ref()?;
    if release.product_id != context.product_id {
        return None;
    }
    if !rollout::reaches(&release.id, device_id, release.rollout_percent) {
        return None;
    }
    let started = matches!(
        release.state,
        Some(UpdateState::Downloading | UpdateState::Installing)
    );
    if release.halted && !started {
        return None;
    }
    match release.state {
        Some(UpdateState::Succeeded) => None,
        Some(UpdateState::Failed | UpdateState::RolledBack) if !release.required => None,
        _ => Some(release),
    }
}

/// Whether `running` has every binary's artifact at the binary's version.
pub fn runs_all(running: &[RunningArtifact], binaries: &[BundleBinary]) -> bool {
    binaries.iter().all(|b| {
        running
            .iter()
            .any(|r| r.artifact == b.artifact && r.version == b.version)
    })
}

/// The binaries the device is offered for its current release, or `None`.
pub async fn offered_binaries(
    conn: &mut LazyConn<'_>,
    cache: &BundleCache,
    device_id: &DeviceId,
    product_id: &ProductId,
    context: &DeviceContext,
    target: Option<&str>,
    running: &[RunningArtifact],
) -> sqlx::Result<Option<(CurrentRelease, Arc<Vec<BundleBinary>>)>> {
    let Some(release) = eligible_release(device_id, product_id, context) else {
        return Ok(None);
    };
    let Some(target) = target else {
        return Ok(None);
    };
    let binaries = cache.binaries(conn, &release.bundle_id, target).await?;
    if binaries.is_empty() || runs_all(running, &binaries) {
        return Ok(None);
    }
    Ok(Some((release.clone(), binaries)))
}

/// The whole offer, with signatures and where to download each binary (made now by `links`:
/// a presigned URL is never reused from an earlier answer).
pub async fn offer(
    conn: &mut Conn,
    links: &DownloadLinks,
    release: CurrentRelease,
    binaries: &[BundleBinary],
) -> sqlx::Result<UpdateOffer> {
    let ids: Vec<_> = binaries.iter().map(|b| b.binary_id.clone()).collect();
    let signatures = device_offers::signatures(conn, &ids).await?;
    let mut urls = Vec::with_capacity(binaries.len());
    for b in binaries {
        urls.push(links.url(b).await);
    }
    let binaries = binaries
        .iter()
        .zip(urls)
        .map(|(b, url)| OfferedBinary {
            binary_id: b.binary_id.clone(),
            artifact: b.artifact.clone(),
            version: b.version.clone(),
            target: b.target.clone(),
            size: b.size,
            sha256: b.sha256.clone(),
            signatures: signatures
                .iter()
                .filter(|s| s.binary_id == b.binary_id)
                .map(|s| OfferedSignature {
                    key_id: s.key_id.clone(),
                    key_name: s.key_name.clone(),
                    public_key: s.public_key.clone(),
                    signature: s.signature.clone(),
                })
                .collect(),
            url,
        })
        .collect();
    Ok(UpdateOffer {
        release_id: release.id,
        bundle_id: release.bundle_id,
        bundle: release.bundle,
        required: release.required,
        binaries,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::api::ReleaseId;

    /// A device in cohort `c` of its product, whose current release is at `percent`.
    pub(in super::super) fn context(percent: u8) -> DeviceContext {
        let product_id = ProductId::generate();
        DeviceContext {
            identifier: "d".into(),
            product_id: product_id.clone(),
            product: "p".into(),
            cohort: Some("c".into()),
            quarantined: false,
            target: Some("armv7".into()),
            reported_target: None,
            release: Some(CurrentRelease {
                id: ReleaseId::generate(),
                product_id: product_id.clone(),
                bundle_id: BundleId::generate(),
                bundle: "b".into(),
                rollout_percent: percent,
                required: false,
                halted: false,
                state: None,
            }),
            config: crate::server::store::configs::EffectiveKey {
                product_id,
                product_revision: 0,
                cohort_id: None,
                cohort_revision: 0,
                device_id: None,
                device_revision: 0,
            },
        }
    }

    fn offered_share(context: &DeviceContext, devices: &[DeviceId]) -> Vec<bool> {
        devices
            .iter()
            .map(|d| eligible_release(d, &context.product_id, context).is_some())
            .collect()
    }

    #[test]
    fn ten_percent_of_ten_thousand_devices_and_raising_keeps_them() {
        let devices: Vec<DeviceId> = (0..10_000).map(|_| DeviceId::generate()).collect();
        let mut ctx = context(10);
        let at_10 = offered_share(&ctx, &devices);
        let count = at_10.iter().filter(|o| **o).count();
        assert!(
            (800..=1200).contains(&count),
            "{count} of 10,000 offered at 10%"
        );
        if let Some(release) = ctx.release.as_mut() {
            release.rollout_percent = 50;
        }
        let at_50 = offered_share(&ctx, &devices);
        let count_50 = at_50.iter().filter(|o| **o).count();
        assert!(
            (4800..=5200).contains(&count_50),
            "{count_50} offered at 50%"
        );
        for (i, (a, b)) in at_10.iter().zip(&at_50).enumerate() {
            assert!(
                !a || *b,
                "device {} left the rollout when it grew",
                devices[i]
            );
        }
    }

    #[test]
    fn quarantined_cohortless_foreign_and_finished_devices_get_nothing() {
        let device = DeviceId::generate();
        let full = context(100);
        let product = full.product_id.clone();
        assert!(eligible_release(&device, &product, &full).is_some());

        let quarantined = DeviceContext {
            quarantined: true,
            ..full.clone()
        };
        assert!(eligible_release(&device, &product, &quarantined).is_none());
        let cohortless = DeviceContext {
            release: None,
            ..full.clone()
        };
        assert!(eligible_release(&device, &product, &cohortless).is_none());
        assert!(eligible_release(&device, &ProductId::generate(), &full).is_none());

        let with_state = |state, required| {
            let mut ctx = full.clone();
            if let Some(release) = ctx.release.as_mut() {
                release.state = Some(state);
                release.required = required;
            }
            ctx
        };
        let done = with_state(UpdateState::Succeeded, true);
        assert!(eligible_release(&device, &product, &done).is_none());
        let failed = with_state(UpdateState::Failed, false);
        assert!(eligible_release(&device, &product, &failed).is_none());
        let failed_required = with_state(UpdateState::Failed, true);
        assert!(eligible_release(&device, &product, &failed_required).is_some());
        let downloading = with_state(UpdateState::Downloading, false);
        assert!(eligible_release(&device, &product, &downloading).is_some());
    }

    #[test]
    fn a_halted_release_lets_started_devices_finish_and_starts_no_other() {
        let device = DeviceId::generate();
        let mut ctx = context(100);
        let product = ctx.product_id.clone();
        let set = |ctx: &mut DeviceContext, state: Option<UpdateState>, required: bool| {
            if let Some(release) = ctx.release.as_mut() {
                release.halted = true;
                release.state = state;
                release.required = required;
            }
        };
        set(&mut ctx, None, false);
        assert!(eligible_release(&device, &product, &ctx).is_none());
        set(&mut ctx, Some(UpdateState::Failed), true);
        assert!(
            eligible_release(&device, &product, &ctx).is_none(),
            "no retry of a failed required install while halted"
        );
        for started in [UpdateState::Downloading, UpdateState::Installing] {
            set(&mut ctx, Some(started), false);
            assert!(eligible_release(&device, &product, &ctx).is_some());
        }
    }

    #[test]
    fn a_device_running_every_binary_is_done() {
        let binary = |artifact: &str, version: &str| BundleBinary {
            binary_id: crate::api::BinaryId::generate(),
            artifact: artifact.into(),
            version: version.into(),
            target: "armv7".into(),
            size: 1,
            sha256: "00".into(),
            blob_prefix: "binaries/b".into(),
            layout: crate::server::store::firmware::binaries::BlobLayout::Parts,
        };
        let run = |artifact: &str, version: &str| RunningArtifact {
            artifact: artifact.into(),
            version: version.into(),
            sha256: None,
        };
        let bundle = [binary("app", "2.0"), binary("boot", "1.0")];
        assert!(runs_all(&[run("boot", "1.0"), run("app", "2.0")], &bundle));
        assert!(!runs_all(&[run("boot", "1.0"), run("app", "1.9")], &bundle));
        assert!(!runs_all(&[run("app", "2.0")], &bundle));
    }
}
