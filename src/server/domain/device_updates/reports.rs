//! Update reports: a device says where it is in taking a release. History keeps every
//! (release, state) once; the latest state moves only forward (see [`moves_latest`]); a
//! `succeeded` sets what the device runs to the bundle's artifacts. A first final outcome
//! per device moves the release's guard counts (and may halt it).

use super::DeviceUpdates;
use crate::api::device_api::{DeviceUpdate, RunningArtifact, UpdateReport, UpdateState};
use crate::server::device_api::principal::DevicePrincipal;
use crate::server::domain::Validator;
use crate::server::domain::firmware::rollout::count_final_report;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::{self, Pool, device_offers, device_status, update_reports};

/// Longest failure reason, in characters.
pub const MAX_REASON: usize = 1024;

/// Ranks the states of one release: downloading < installing < failed = rolled_back <
/// succeeded. `succeeded` ranks above the failures so that a retried install (a required
/// release is offered again after a failure) that succeeds counts, and a late `failed` never
/// undoes a success.
pub fn rank(state: UpdateState) -> u8 {
    match state {
        UpdateState::Downloading => 1,
        UpdateState::Installing => 2,
        UpdateState::Failed | UpdateState::RolledBack => 3,
        UpdateState::Succeeded => 4,
    }
}

/// Whether a new report replaces the device's latest state: a newer release (release IDs are
/// time-ordered), or the same release at a rank at least as high. A report about an older
/// release, or an older state arriving late, goes into the history only.
pub fn moves_latest(latest: Option<&DeviceUpdate>, report: &DeviceUpdate) -> bool {
    match latest {
        None => true,
        Some(latest) if report.release_id != latest.release_id => {
            report.release_id > latest.release_id
        }
        Some(latest) => rank(report.state) >= rank(latest.state),
    }
}

fn unknown_release(release: &str) -> ApiError {
    ApiError::not_found(format!("no release `{release}` for this device's product"))
        .with_hint("report on the release_id of the update your last check-in offered")
}

/// Records a report and answers the device's latest update state. 404 for a release of
/// another product (or none); a repeated report changes nothing.
pub async fn report(
    pool: &Pool,
    updates: &DeviceUpdates,
    device: &DevicePrincipal,
    body: UpdateReport,
) -> ApiResult<DeviceUpdate> {
    let mut v = Validator::default();
    if let Some(reason) = &body.reason {
        if reason.chars().count() > MAX_REASON {
            v.check(
                "reason",
                Err(format!("is longer than {MAX_REASON} characters")),
            );
        }
    }
    v.finish()?;
    let report = DeviceUpdate {
        release_id: body.release_id,
        state: body.state,
        reason: body.reason,
        at: store::now(),
    };
    let mut tx = store::begin_write(pool).await?;
    let release = update_reports::release(&mut tx, &report.release_id)
        .await?
        .filter(|r| r.product_id == device.product_id)
        .ok_or_else(|| unknown_release(report.release_id.as_str()))?;
    let added = update_reports::insert(&mut tx, &device.device_id, &report).await?;
    if added {
        // The guard's counts, and its verdict, move with the report that changes them.
        let device_id = device.device_id.as_str();
        count_final_report(
            &mut tx,
            &report.release_id,
            device_id,
            report.state,
            report.at,
        )
        .await?;
    }
    let latest = update_reports::latest(&mut tx, &device.device_id).await?;
    if !added || !moves_latest(latest.as_ref(), &report) {
        tx.commit().await?;
        return Ok(latest.unwrap_or(report));
    }
    update_reports::set_latest(&mut tx, &device.device_id, &report).await?;
    if report.state == UpdateState::Succeeded {
        let context = device_offers::context(&mut tx, &device.device_id).await?;
        let target = context
            .as_ref()
            .and_then(|c| c.target.as_deref().or(c.reported_target.as_deref()));
        let rows = device_offers::bundle_versions(&mut tx, &release.bundle_id, target).await?;
        let mut running: Vec<RunningArtifact> = Vec::new();
        for (artifact, version, sha256) in rows {
            if running.iter().any(|r| r.artifact == artifact) {
                continue;
            }
            running.push(RunningArtifact {
                artifact,
                version,
                // Without a known target the bundle's binary for it is unknown too.
                sha256: target.map(|_| sha256),
            });
        }
        device_status::upsert_running(&mut tx, &device.device_id, &running).await?;
        // A check-in still waiting in the writer must not put the old versions back.
        updates.writer.forget_running(&device.device_id);
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ReleaseId;

    fn update(release: &ReleaseId, state: UpdateState) -> DeviceUpdate {
        DeviceUpdate {
            release_id: release.clone(),
            state,
            reason: None,
            at: store::now(),
        }
    }

    #[test]
    fn the_latest_state_moves_forward_only() {
        let old = ReleaseId::generate();
        let new = ReleaseId::generate();
        let installing = update(&new, UpdateState::Installing);
        assert!(moves_latest(None, &installing));
        assert!(!moves_latest(
            Some(&installing),
            &update(&new, UpdateState::Downloading)
        ));
        assert!(moves_latest(
            Some(&installing),
            &update(&new, UpdateState::Failed)
        ));
        let failed = update(&new, UpdateState::Failed);
        assert!(moves_latest(
            Some(&failed),
            &update(&new, UpdateState::Succeeded)
        ));
        assert!(moves_latest(
            Some(&failed),
            &update(&new, UpdateState::RolledBack)
        ));
        let succeeded = update(&new, UpdateState::Succeeded);
        assert!(!moves_latest(
            Some(&succeeded),
            &update(&new, UpdateState::Failed)
        ));
        assert!(!moves_latest(
            Some(&installing),
            &update(&old, UpdateState::Succeeded)
        ));
        let on_old = update(&old, UpdateState::Succeeded);
        assert!(moves_latest(
            Some(&on_old),
            &update(&new, UpdateState::Downloading)
        ));
    }
}
