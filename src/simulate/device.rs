//! One simulated device: what it runs, its connection, and its behaviour — the check-in loop
//! that takes offered updates (report `downloading`, download and verify each binary, report
//! `installing`, then `succeeded` or `failed`), and the back-to-back load loop.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::{Semaphore, watch};

use super::Plan;
use super::choice::DeviceChoices;
use super::stats::{Counters, micros};
use super::verify;
use crate::api::ReleaseId;
use crate::api::device_api::{
    CheckIn, CheckInAnswer, RunningArtifact, UpdateOffer, UpdateReport, UpdateState,
};
use crate::client::device::{DeviceConnection, download_url};
use crate::error::{ErrorKind, Result};

/// What every device of a run shares.
pub struct Shared {
    pub plan: Plan,
    pub counters: Arc<Counters>,
    /// For offers that send the device to an object-store URL.
    pub object_store: reqwest::Client,
}

/// The reason a simulated install failure reports.
pub const SIMULATED_FAILURE: &str = "install failed (simulated by --fail-rate)";

pub struct SimDevice {
    pub connection: DeviceConnection,
    choices: DeviceChoices,
    running: Vec<RunningArtifact>,
    boot_id: String,
    booted: Instant,
    /// Releases this device reported a final state for: offered again, they are not retried.
    finished: HashSet<ReleaseId>,
    /// The latest update state reported, with its reason.
    pub state: Option<(UpdateState, Option<String>)>,
    checked_in: bool,
    settled: bool,
    /// Successful check-ins so far.
    check_ins_made: u32,
    /// The configuration revision this device applied last (it reports it at check-in).
    pub config_revision: Option<i64>,
    /// The check-in (counted from 1) whose answer first sent nothing new after the device
    /// applied its configuration: when the service had it.
    pub config_acknowledged_at: Option<u32>,
    /// Check-in latencies, in microseconds.
    pub check_in_latencies: Vec<u32>,
}

impl SimDevice {
    pub fn new(connection: DeviceConnection, index: usize, plan: &Plan) -> Self {
        SimDevice {
            connection,
            choices: DeviceChoices::new(plan.seed, index),
            running: plan.running.clone(),
            boot_id: uuid::Uuid::now_v7().to_string(),
            booted: Instant::now(),
            finished: HashSet::new(),
            state: None,
            checked_in: false,
            settled: false,
            check_ins_made: 0,
            config_revision: None,
            config_acknowledged_at: None,
            check_in_latencies: Vec::new(),
        }
    }

    fn check_in_body(&self, plan: &Plan) -> CheckIn {
        CheckIn {
            running: self.running.clone(),
            target: plan.target.clone(),
            boot_id: Some(self.boot_id.clone()),
            uptime_s: Some(self.booted.elapsed().as_secs()),
            config_revision: self.config_revision,
            config_failure: None,
            status: None,
        }
    }

    /// Applies the configuration an answer carries (a simulated device applies every one);
    /// `true` when there was one.
    fn apply_config(&mut self, answer: &CheckInAnswer) -> bool {
        match &answer.config {
            Some(config) => {
                self.config_revision = Some(config.revision);
                self.config_acknowledged_at = None;
                true
            }
            None => {
                if self.config_revision.is_some() && self.config_acknowledged_at.is_none() {
                    self.config_acknowledged_at = Some(self.check_ins_made);
                }
                false
            }
        }
    }

    fn settle(&mut self, settled: bool, counters: &Counters) {
        if settled != self.settled {
            self.settled = settled;
            if settled {
                Counters::bump(&counters.settled);
            } else {
                Counters::drop_one(&counters.settled);
            }
        }
    }

    /// One check-in, counted; the first success counts the device as provisioned.
    pub async fn check_in(&mut self, shared: &Shared) -> Result<CheckInAnswer> {
        let body = self.check_in_body(&shared.plan);
        let started = Instant::now();
        let result = self.connection.check_in(&body).await;
        let counters = &shared.counters;
        match &result {
            Ok(_) => {
                self.check_ins_made += 1;
                self.check_in_latencies.push(micros(started.elapsed()));
                Counters::bump(&counters.check_ins);
                if !self.checked_in {
                    self.checked_in = true;
                    Counters::bump(&counters.provisioned);
                }
            }
            Err(_) if !self.checked_in => Counters::bump(&counters.never_checked_in),
            Err(_) => {}
        }
        result
    }

    /// The load mode's first request: a check-in, or a ping when only pings are measured
    /// (either authenticates the device, which provisions it by JITP when it is new).
    pub async fn connect(&mut self, shared: &Shared, by_ping: bool) -> Result<()> {
        if !by_ping {
            // The load phase then reports the configuration applied here, as a device would.
            let answer = self.check_in(shared).await?;
            self.apply_config(&answer);
            return Ok(());
        }
        let started = Instant::now();
        self.connection.ping().await?;
        self.check_in_latencies.push(micros(started.elapsed()));
        self.checked_in = true;
        Counters::bump(&shared.counters.provisioned);
        Ok(())
    }

    /// The check-in loop, until `stop` turns true or the server refuses the device.
    pub async fn live(
        mut self,
        shared: Arc<Shared>,
        gate: Arc<Semaphore>,
        mut stop: watch::Receiver<bool>,
    ) -> SimDevice {
        let interval = shared.plan.interval;
        let mut wait = self.choices.first_delay(interval);
        let counters = shared.counters.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            // Connecting (TLS handshake, JITP) is the expensive part: bounded across devices.
            let permit = if self.checked_in {
                None
            } else {
                gate.acquire().await.ok()
            };
            let answer = self.check_in(&shared).await;
            drop(permit);
            match answer {
                Ok(answer) => match answer.update {
                    // A configuration to apply: reported at the next check-in, so not settled.
                    _ if self.apply_config(&answer) => self.settle(false, &counters),
                    Some(offer)
                        if !self.finished.contains(&offer.release_id)
                            && !offer.binaries.is_empty() =>
                    {
                        self.settle(false, &counters);
                        tokio::select! {
                            _ = self.take(offer, &shared) => {}
                            _ = stop.changed() => break,
                        }
                    }
                    _ => self.settle(true, &counters),
                },
                Err(err) if err.kind == ErrorKind::Auth => {
                    // A refused certificate stays refused: this device is done.
                    Counters::bump(&counters.refused);
                    counters.error(err);
                    self.settle(true, &counters);
                    break;
                }
                Err(err) => counters.error(err),
            }
            wait = self.choices.next_interval(interval);
        }
        self
    }

    async fn report(
        &mut self,
        release: &ReleaseId,
        state: UpdateState,
        reason: Option<String>,
        counters: &Counters,
    ) -> Result<()> {
        let report = UpdateReport {
            release_id: release.clone(),
            state,
            reason: reason.clone(),
        };
        self.connection.report(&report).await?;
        let was_updating = matches!(
            self.state,
            Some((UpdateState::Downloading | UpdateState::Installing, _))
        );
        match (was_updating, state.is_final()) {
            (false, false) => Counters::bump(&counters.updating),
            (true, true) => Counters::drop_one(&counters.updating),
            _ => {}
        }
        match state {
            UpdateState::Succeeded => Counters::bump(&counters.succeeded),
            UpdateState::Failed => Counters::bump(&counters.failed),
            _ => {}
        }
        self.state = Some((state, reason));
        if state.is_final() {
            self.finished.insert(release.clone());
            self.settle(true, counters);
        }
        Ok(())
    }

    /// Takes an offered update through to a final report, or stops at a failed request (the
    /// device tries again when the next check-in offers it again).
    async fn take(&mut self, offer: UpdateOffer, shared: &Shared) {
        if let Err(err) = self.try_take(&offer, shared).await {
            shared.counters.error(err);
        }
    }

    async fn try_take(&mut self, offer: &UpdateOffer, shared: &Shared) -> Result<()> {
        let counters = &shared.counters;
        let release = &offer.release_id;
        self.report(release, UpdateState::Downloading, None, counters)
            .await?;
        for binary in &offer.binaries {
            let download =
                if binary.url.starts_with("https://") || binary.url.starts_with("http://") {
                    download_url(&shared.object_store, &binary.url).await?
                } else {
                    self.connection.download(&binary.url).await?
                };
            if let Err(reason) = verify::check(binary, &download) {
                self.report(release, UpdateState::Failed, Some(reason), counters)
                    .await?;
                return Ok(());
            }
        }
        self.report(release, UpdateState::Installing, None, counters)
            .await?;
        if self
            .choices
            .install_fails(release.as_str(), shared.plan.fail_rate)
        {
            let reason = Some(SIMULATED_FAILURE.to_owned());
            self.report(release, UpdateState::Failed, reason, counters)
                .await?;
            return Ok(());
        }
        self.report(release, UpdateState::Succeeded, None, counters)
            .await?;
        self.running = running_after(&self.running, offer);
        Ok(())
    }

    /// Back-to-back requests until `deadline` or `stop`: check-ins, or pings when `ping`.
    /// Returns how many succeeded and their latencies.
    pub async fn hammer(
        mut self,
        shared: Arc<Shared>,
        ping: bool,
        deadline: Instant,
        stop: Arc<AtomicBool>,
    ) -> (SimDevice, u64, Vec<u32>) {
        let counters = shared.counters.clone();
        let body = self.check_in_body(&shared.plan);
        let mut samples = Vec::new();
        let mut done = 0u64;
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let result = if ping {
                self.connection.ping().await
            } else {
                self.connection.check_in(&body).await.map(drop)
            };
            match result {
                Ok(()) => {
                    samples.push(micros(started.elapsed()));
                    done += 1;
                    Counters::bump(if ping {
                        &counters.pings
                    } else {
                        &counters.check_ins
                    });
                }
                Err(err) => {
                    let refused = err.kind == ErrorKind::Auth;
                    counters.error(err);
                    if refused {
                        break;
                    }
                }
            }
        }
        (self, done, samples)
    }
}

/// What a device runs after installing `offer`: each offered artifact at its new version and
/// digest, the others as they were.
pub fn running_after(running: &[RunningArtifact], offer: &UpdateOffer) -> Vec<RunningArtifact> {
    let mut next: Vec<RunningArtifact> = running
        .iter()
        .filter(|r| !offer.binaries.iter().any(|b| b.artifact == r.artifact))
        .cloned()
        .collect();
    next.extend(offer.binaries.iter().map(|b| RunningArtifact {
        artifact: b.artifact.clone(),
        version: b.version.clone(),
        sha256: Some(b.sha256.clone()),
    }));
    next.sort_by(|a, b| a.artifact.cmp(&b.artifact));
    next
}

#[cfg(test)]
mod tests {
    use super::running_after;
    use crate::api::device_api::{OfferedBinary, RunningArtifact, UpdateOffer};
    use crate::api::{BinaryId, BundleId, ReleaseId};

    fn running(artifact: &str, version: &str) -> RunningArtifact {
        RunningArtifact {
            artifact: artifact.into(),
            version: version.into(),
            sha256: None,
        }
    }

    #[test]
    fn an_installed_offer_replaces_its_artifacts_and_keeps_the_others() {
        let offer = UpdateOffer {
            release_id: ReleaseId::generate(),
            bundle_id: BundleId::generate(),
            bundle: "b".into(),
            required: false,
            binaries: vec![OfferedBinary {
                binary_id: BinaryId::generate(),
                artifact: "app".into(),
                version: "1.1.0".into(),
                target: "t".into(),
                size: 1,
                sha256: "ab".repeat(32),
                signatures: vec![],
                url: "/x".into(),
            }],
        };
        let before = vec![running("app", "1.0.0"), running("boot", "2.0.0")];
        let after = running_after(&before, &offer);
        assert_eq!(after.len(), 2);
        assert_eq!(after[0].artifact, "app");
        assert_eq!(after[0].version, "1.1.0");
        assert_eq!(after[0].sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(after[1], running("boot", "2.0.0"));
    }
}
