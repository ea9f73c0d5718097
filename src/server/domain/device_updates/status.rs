//! The operator's view of a device in the field: last check-in, what it runs, update state
//! and history.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::DeviceUpdates;
use crate::api::device_status::STATUS_HISTORY;
use crate::api::{Device, DeviceStatus};
use crate::server::auth::Principal;
use crate::server::error::ApiResult;
use crate::server::store::{self, Pool, device_status, update_reports};

/// Whether a device last seen at `last_seen` counts as online at `now`.
pub fn online(last_seen: Option<DateTime<Utc>>, now: DateTime<Utc>, within: Duration) -> bool {
    let within = chrono::Duration::from_std(within).unwrap_or(chrono::Duration::MAX);
    last_seen.is_some_and(|seen| now.signed_duration_since(seen) <= within)
}

pub async fn status(
    pool: &Pool,
    updates: &DeviceUpdates,
    principal: &Principal,
    reference: &str,
) -> ApiResult<DeviceStatus> {
    let Device { id, identifier, .. } =
        crate::server::domain::devices::get(pool, principal, reference).await?;
    let mut conn = pool.acquire().await?;
    let stored = device_status::get(&mut conn, &id).await?;
    let running = device_status::running(&mut conn, &id).await?;
    let update = update_reports::latest(&mut conn, &id).await?;
    let history = update_reports::history(&mut conn, &id, STATUS_HISTORY).await?;
    let last_seen_at = stored.as_ref().map(|s| s.last_seen_at);
    Ok(DeviceStatus {
        device_id: id,
        identifier,
        last_seen_at,
        online: online(last_seen_at, store::now(), updates.online_within()),
        last_address: stored.as_ref().and_then(|s| s.last_address.clone()),
        check_ins: stored
            .as_ref()
            .map_or(0, |s| u64::try_from(s.check_ins).unwrap_or(0)),
        reported_target: stored.as_ref().and_then(|s| s.reported_target.clone()),
        boot_id: stored.as_ref().and_then(|s| s.boot_id.clone()),
        uptime_s: stored
            .as_ref()
            .and_then(|s| s.uptime_s)
            .and_then(|u| u64::try_from(u).ok()),
        config_revision: stored.as_ref().and_then(|s| s.config_revision),
        status: stored
            .and_then(|s| s.status)
            .and_then(|text| serde_json::from_str(&text).ok()),
        running,
        update,
        history,
    })
}

/// The check-in filters of a device list, checked and turned into what the store takes.
#[derive(Debug, Default)]
pub struct SeenFilter<'a> {
    pub seen_since: Option<DateTime<Utc>>,
    pub not_seen_since: Option<DateTime<Utc>>,
    pub running: Option<(&'a str, &'a str)>,
    pub update_state: Option<&'a str>,
}

impl<'a> SeenFilter<'a> {
    /// `online_within` is how recent a check-in makes a device online; problems go to `v`.
    pub fn of(
        query: &'a crate::api::DeviceListQuery,
        online_within: Duration,
        v: &mut crate::server::domain::Validator,
    ) -> SeenFilter<'a> {
        let now = store::now();
        let ago = |d: Duration| {
            chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let mut filter = SeenFilter::default();
        let mut since = Vec::new();
        if query.online == Some(true) {
            since.push(ago(online_within));
        }
        if let Some(seconds) = query.seen_within_s {
            // The document declares a signed 64-bit integer; larger values are refused, not
            // silently read as "ever".
            if i64::try_from(seconds).is_err() {
                v.check(
                    "seen_within_s",
                    Err(format!("{seconds} is larger than {}", i64::MAX)),
                );
            } else {
                since.push(ago(Duration::from_secs(seconds)));
            }
        }
        // Both filters: the later bound is the one both pass.
        filter.seen_since = since.into_iter().max();
        if query.online == Some(false) {
            filter.not_seen_since = Some(ago(online_within));
        }
        if let Some(running) = &query.running {
            match running.split_once('@') {
                Some((artifact, version)) if !artifact.is_empty() && !version.is_empty() => {
                    filter.running = Some((artifact, version));
                }
                _ => v.check(
                    "running",
                    Err(format!(
                        "`{running}` is not ARTIFACT@VERSION, e.g. app@1.4.0"
                    )),
                ),
            }
        }
        if let Some(state) = &query.update_state {
            match crate::api::device_api::UpdateState::parse(state) {
                Some(parsed) => filter.update_state = Some(parsed.as_str()),
                None => v.check(
                    "update_state",
                    Err(format!(
                        "`{state}` is not an update state: downloading, installing, succeeded, \
                         failed or rolled_back"
                    )),
                ),
            }
        }
        filter
    }
}
