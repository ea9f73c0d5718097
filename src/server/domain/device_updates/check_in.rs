//! A device's check-in: validated, queued for the check-in writer (no audit event, no change
//! to the device's revision), and answered with the update to take now.

use std::sync::Arc;

use super::DeviceUpdates;
use super::contexts::OffersEpoch;
use super::offer;
use crate::api::DeviceId;
use crate::api::device_api::{CheckIn, CheckInAnswer};
use crate::api::validate;
use crate::server::device_api::principal::DevicePrincipal;
use crate::server::domain::Validator;
use crate::server::domain::configs::effective;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::device_offers::DeviceContext;
use crate::server::store::device_status::{self, StatusUpdate};
use crate::server::store::{self, LazyConn, Pool, device_offers};

/// Most artifacts one check-in may list.
pub const MAX_RUNNING: usize = 64;
/// Longest artifact name, version and boot ID, in characters.
pub const MAX_TEXT: usize = 128;
/// Largest status object, as compact JSON.
pub const MAX_STATUS_BYTES: usize = 16 * 1024;

fn text(value: &str, what: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(format!("{what} is longer than {MAX_TEXT} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    Ok(())
}

/// Longest reason a device gives for a configuration it could not apply.
pub const MAX_REASON_CHARS: usize = 1024;

fn reason(value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_REASON_CHARS {
        return Err(format!("is longer than {MAX_REASON_CHARS} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

fn sha256(value: &str) -> Result<(), String> {
    let hex = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    hex.then_some(())
        .ok_or_else(|| "must be 64 lowercase hex digits (a SHA-256)".into())
}

/// The check-in's problems, all of them in one 422; its status object as compact JSON.
pub fn validate(body: &CheckIn) -> ApiResult<Option<String>> {
    let mut v = Validator::default();
    if body.running.len() > MAX_RUNNING {
        v.check(
            "running",
            Err(format!(
                "lists {} artifacts; at most {MAX_RUNNING}",
                body.running.len()
            )),
        );
    }
    for (i, r) in body.running.iter().take(MAX_RUNNING).enumerate() {
        v.check(
            &format!("running[{i}].artifact"),
            text(&r.artifact, "artifact"),
        );
        v.check(
            &format!("running[{i}].version"),
            text(&r.version, "version"),
        );
        if let Some(digest) = &r.sha256 {
            v.check(&format!("running[{i}].sha256"), sha256(digest));
        }
        if body.running[..i].iter().any(|o| o.artifact == r.artifact) {
            v.check(
                &format!("running[{i}].artifact"),
                Err(format!("artifact `{}` is listed twice", r.artifact)),
            );
        }
    }
    if let Some(target) = &body.target {
        v.check("target", validate::target(target));
    }
    if let Some(boot_id) = &body.boot_id {
        v.check("boot_id", text(boot_id, "boot ID"));
    }
    if let Some(failure) = &body.config_failure {
        v.check("config_failure.reason", reason(&failure.reason));
    }
    if body.uptime_s.is_some_and(|u| i64::try_from(u).is_err()) {
        v.check("uptime_s", Err("is too large".into()));
    }
    let status = match &body.status {
        None => None,
        Some(value @ serde_json::Value::Object(_)) => {
            let compact = value.to_string();
            if compact.len() > MAX_STATUS_BYTES {
                v.check(
                    "status",
                    Err(format!(
                        "is {} bytes as JSON; at most {MAX_STATUS_BYTES}",
                        compact.len()
                    )),
                );
            }
            Some(compact)
        }
        Some(_) => {
            v.check("status", Err("must be a JSON object".into()));
            None
        }
    };
    v.finish()?;
    Ok(status)
}

/// Records the check-in (written by the next batch) and resolves the offer. `address` is the
/// client's IP as the connection (or a trusted proxy) gave it; `epoch` the offers epoch the
/// request read when it arrived (`None`: the device's context is read, not cached).
pub async fn check_in(
    pool: &Pool,
    updates: &DeviceUpdates,
    device: &DevicePrincipal,
    epoch: Option<OffersEpoch>,
    address: Option<String>,
    body: CheckIn,
) -> ApiResult<CheckInAnswer> {
    let status = validate(&body)?;
    // Taken only for what the caches do not answer.
    let mut conn = LazyConn::new(pool);
    let context = context(&mut conn, updates, epoch, &device.device_id).await?;
    // Borrowed when the check-in lists what runs: the list moves into the status update below.
    let stored;
    let running = if body.running.is_empty() {
        stored = device_status::running(conn.get().await?, &device.device_id).await?;
        &stored
    } else {
        &body.running
    };
    let target = offer::target_of(&context, body.target.as_deref());
    let offered = offer::offered_binaries(
        &mut conn,
        &updates.bundles,
        &device.device_id,
        &device.product_id,
        &context,
        target,
        running,
    )
    .await?;
    let update = match offered {
        Some((release, binaries)) => {
            Some(offer::offer(conn.get().await?, &updates.links, release, &binaries).await?)
        }
        None => None,
    };
    // Merged once per combination of revisions, not per check-in (see `configs::effective`).
    let effective =
        effective::for_key(&mut conn, &updates.configs.effective, &context.config).await?;
    let config = effective::delivery(
        effective.as_deref(),
        body.config_revision,
        body.config_failure.as_ref(),
    );
    drop(conn);

    let seen_at = store::now();
    let offers = update
        .as_ref()
        .map(|offer| vec![(offer.release_id.clone(), seen_at)])
        .unwrap_or_default();
    updates.writer.record(StatusUpdate {
        device_id: device.device_id.clone(),
        seen_at,
        address,
        check_ins: 1,
        reported_target: body.target,
        boot_id: body.boot_id,
        uptime_s: body.uptime_s.and_then(|u| i64::try_from(u).ok()),
        config_revision: body.config_revision,
        config_failure: body
            .config_failure
            .as_ref()
            .and_then(|f| serde_json::to_string(f).ok()),
        status,
        running: (!body.running.is_empty()).then_some(body.running),
        hours: [(device_status::hour_of(seen_at), 1)].into(),
        offers,
    });
    if updates.wait_for_writes {
        updates.writer.flush().await?;
    }
    Ok(CheckInAnswer {
        device_id: device.device_id.clone(),
        identifier: context.identifier.clone(),
        product: context.product.clone(),
        cohort: context.cohort.clone(),
        update,
        config,
        next_check_in_s: u32::try_from(updates.check_in_interval.as_secs()).unwrap_or(u32::MAX),
    })
}

/// The device's context: from the cache when it was read under `epoch`, else from the database
/// (and then cached under `epoch`, read before it).
async fn context(
    conn: &mut LazyConn<'_>,
    updates: &DeviceUpdates,
    epoch: Option<OffersEpoch>,
    device: &DeviceId,
) -> ApiResult<Arc<DeviceContext>> {
    if let Some(hit) = epoch.and_then(|epoch| updates.contexts.get(epoch, device)) {
        return Ok(hit);
    }
    let context = device_offers::context(conn.get().await?, device)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("this device no longer exists")
                .with_hint("ask an operator to register it again")
        })?;
    let context = Arc::new(context);
    if let Some(epoch) = epoch {
        updates.contexts.remember(epoch, device, &context);
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::device_api::RunningArtifact;

    fn artifact(name: &str) -> RunningArtifact {
        RunningArtifact {
            artifact: name.into(),
            version: "1.0".into(),
            sha256: None,
        }
    }

    fn fields(err: ApiError) -> Vec<String> {
        err.body.fields.iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn oversized_or_malformed_check_ins_are_refused_with_every_field() {
        let body = CheckIn {
            running: (0..65).map(|i| artifact(&format!("a{i}"))).collect(),
            status: Some(serde_json::json!({ "blob": "x".repeat(MAX_STATUS_BYTES) })),
            ..CheckIn::default()
        };
        let err = validate(&body).expect_err("too big");
        assert_eq!(fields(err), ["running", "status"]);

        let body = CheckIn {
            running: vec![artifact("app"), artifact("app")],
            status: Some(serde_json::json!([1, 2])),
            boot_id: Some("b".repeat(MAX_TEXT + 1)),
            ..CheckIn::default()
        };
        let err = validate(&body).expect_err("malformed");
        assert_eq!(fields(err), ["running[1].artifact", "boot_id", "status"]);
    }

    #[test]
    fn a_check_in_at_the_limits_is_accepted() {
        let body = CheckIn {
            running: (0..64).map(|i| artifact(&format!("a{i}"))).collect(),
            status: Some(serde_json::json!({ "temp": 41.5 })),
            boot_id: Some("b".repeat(MAX_TEXT)),
            ..CheckIn::default()
        };
        assert_eq!(
            validate(&body).expect("valid").as_deref(),
            Some("{\"temp\":41.5}")
        );
    }
}
