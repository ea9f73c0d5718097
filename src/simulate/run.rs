//! Running a simulation: the check-in mode (every device on its interval until `--duration`,
//! Ctrl-C, or `--until-settled`), and the load mode (every device connects, then back-to-back
//! check-ins and/or pings over the same connections, one timed phase each); then the summary.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::device::{Shared, SimDevice};
use super::stats::{Counters, LoadFigures, Rate, StateCounts, Stop, Summary};
use super::{Load, Plan};
use crate::api::device_api::UpdateState;
use crate::client::device::{DeviceConnection, DeviceIdentity, DeviceTls, Endpoint};
use crate::error::{Error, Result};

/// How often the check-in mode looks at its stop conditions.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// A fleet of simulated devices ready to run.
pub struct Simulation {
    shared: Arc<Shared>,
    devices: Vec<SimDevice>,
}

impl Simulation {
    /// One device per identity, each with its own TLS configuration (its certificate).
    pub fn new(
        plan: Plan,
        endpoint: Endpoint,
        tls: &DeviceTls,
        identities: Vec<DeviceIdentity>,
    ) -> Result<Self> {
        let endpoint = Arc::new(endpoint);
        let mut devices = Vec::with_capacity(identities.len());
        for (index, identity) in identities.iter().enumerate() {
            let config = tls.config_for(identity)?;
            let connection = DeviceConnection::new(&identity.identifier, endpoint.clone(), config);
            devices.push(SimDevice::new(connection, plan.first + index, &plan));
        }
        let object_store = reqwest::Client::builder().build().map_err(|err| {
            Error::failure("could not set up the HTTPS client for object-store downloads")
                .with_source(err)
        })?;
        Ok(Simulation {
            shared: Arc::new(Shared {
                plan,
                counters: Arc::new(Counters::default()),
                object_store,
            }),
            devices,
        })
    }

    /// The live counters, for a status line while the run goes on.
    pub fn counters(&self) -> Arc<Counters> {
        self.shared.counters.clone()
    }

    /// Runs until the plan's end or `interrupt` resolves (Ctrl-C). Fails with the first error
    /// when no device could check in at all (refused connection: exit 8; refused certificate:
    /// exit 4).
    pub async fn run(self, interrupt: impl Future<Output = ()>) -> Result<Summary> {
        match self.shared.plan.load {
            Some(load) => self.run_load(load, interrupt).await,
            None => self.run_live(interrupt).await,
        }
    }

    async fn run_live(self, interrupt: impl Future<Output = ()>) -> Result<Summary> {
        let Simulation { shared, devices } = self;
        let plan = &shared.plan;
        let counters = shared.counters.clone();
        let count = devices.len() as u64;
        let started = Instant::now();
        let deadline = started + plan.duration;
        let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for device in devices {
            tasks.spawn(device.live(shared.clone(), gate.clone(), stop_rx.clone()));
        }
        tokio::pin!(interrupt);
        let stopped_by = loop {
            tokio::select! {
                () = &mut interrupt => break Stop::Interrupted,
                () = tokio::time::sleep(WATCH_EVERY) => {}
            }
            if Instant::now() >= deadline {
                break Stop::Duration;
            }
            let settled = Counters::get(&counters.settled);
            if plan.until_settled && settled >= count {
                break Stop::Settled;
            }
            if Counters::get(&counters.provisioned) == 0
                && Counters::get(&counters.never_checked_in) >= count
            {
                break Stop::NoDeviceGotThrough;
            }
        };
        let _ = stop_tx.send(true);
        let mut finished = Vec::with_capacity(count as usize);
        while let Some(joined) = tasks.join_next().await {
            if let Ok(device) = joined {
                finished.push(device);
            }
        }
        let elapsed = started.elapsed();
        if Counters::get(&counters.provisioned) == 0
            && let Some(err) = counters.take_first_error()
        {
            return Err(err);
        }
        let mut samples: Vec<u32> = finished
            .iter_mut()
            .flat_map(|d| d.check_in_latencies.drain(..))
            .collect();
        let check_ins = Rate::new(Counters::get(&counters.check_ins), elapsed, &mut samples);
        Ok(summarize(
            &finished, &counters, count, stopped_by, elapsed, check_ins, None,
        ))
    }

    async fn run_load(self, load: Load, interrupt: impl Future<Output = ()>) -> Result<Summary> {
        let Simulation { shared, devices } = self;
        let counters = shared.counters.clone();
        let count = devices.len() as u64;
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        tokio::pin!(interrupt);

        // Every device connects and sends its first request, `--concurrency` at a time.
        let gate = Arc::new(Semaphore::new(shared.plan.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for mut device in devices {
            let (shared, gate) = (shared.clone(), gate.clone());
            tasks.spawn(async move {
                let _permit = gate.acquire().await.ok();
                let result = device.connect(&shared, !load.check_ins).await;
                (device, result)
            });
        }
        let mut ready = Vec::with_capacity(count as usize);
        let mut interrupted = false;
        loop {
            tokio::select! {
                () = &mut interrupt, if !interrupted => { interrupted = true; tasks.abort_all(); }
                joined = tasks.join_next() => match joined {
                    None => break,
                    Some(Ok((device, Ok(_)))) => ready.push(device),
                    Some(Ok((_, Err(err)))) => {
                        if err.kind == crate::error::ErrorKind::Auth {
                            Counters::bump(&counters.refused);
                        }
                        counters.error(err);
                    }
                    Some(Err(_)) => {}
                },
            }
        }
        let mut provisioning_samples: Vec<u32> = ready
            .iter_mut()
            .flat_map(|d| d.check_in_latencies.drain(..))
            .collect();
        let provisioning = Rate::new(
            ready.len() as u64,
            started.elapsed(),
            &mut provisioning_samples,
        );
        if ready.is_empty() {
            if let Some(err) = counters.take_first_error() {
                return Err(err);
            }
        }
        let mut figures = LoadFigures {
            provisioning,
            check_ins: None,
            ping: None,
        };
        let mut stopped_by = if interrupted {
            Stop::Interrupted
        } else {
            Stop::Duration
        };
        for (wanted, ping) in [(load.check_ins, false), (load.ping, true)] {
            if !wanted || interrupted || ready.is_empty() {
                continue;
            }
            let phase_started = Instant::now();
            let deadline = phase_started + shared.plan.duration;
            let mut tasks = JoinSet::new();
            for device in ready.drain(..) {
                tasks.spawn(device.hammer(shared.clone(), ping, deadline, stop.clone()));
            }
            let mut requests = 0u64;
            let mut samples = Vec::new();
            loop {
                tokio::select! {
                    () = &mut interrupt, if !interrupted => {
                        interrupted = true;
                        stopped_by = Stop::Interrupted;
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    joined = tasks.join_next() => match joined {
                        None => break,
                        Some(Ok((device, done, mut latencies))) => {
                            requests += done;
                            samples.append(&mut latencies);
                            ready.push(device);
                        }
                        Some(Err(_)) => {}
                    },
                }
            }
            let rate = Rate::new(requests, phase_started.elapsed(), &mut samples);
            if ping {
                figures.ping = Some(rate);
            } else {
                figures.check_ins = Some(rate);
            }
        }
        let elapsed = started.elapsed();
        let check_ins = figures
            .check_ins
            .clone()
            .unwrap_or_else(|| figures.provisioning.clone());
        Ok(summarize(
            &ready,
            &counters,
            count,
            stopped_by,
            elapsed,
            check_ins,
            Some(figures),
        ))
    }
}

fn summarize(
    devices: &[SimDevice],
    counters: &Counters,
    count: u64,
    stopped_by: Stop,
    elapsed: Duration,
    check_ins: Rate,
    load: Option<LoadFigures>,
) -> Summary {
    let mut states = StateCounts::default();
    let mut failure_reasons = BTreeMap::new();
    for device in devices {
        match &device.state {
            Some((UpdateState::Downloading, _)) => states.downloading += 1,
            Some((UpdateState::Installing, _)) => states.installing += 1,
            Some((UpdateState::Succeeded, _)) => states.succeeded += 1,
            Some((UpdateState::Failed, reason)) => {
                states.failed += 1;
                let reason = reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".to_owned());
                *failure_reasons.entry(reason).or_insert(0) += 1;
            }
            Some((UpdateState::RolledBack, _)) | None => {}
        }
    }
    let mut configs = BTreeMap::new();
    let mut config_check_ins = None;
    let mut config_pending = 0;
    for device in devices {
        if let Some(revision) = device.config_revision {
            *configs.entry(revision).or_insert(0) += 1;
            match device.config_acknowledged_at {
                Some(n) => config_check_ins = config_check_ins.max(Some(n)),
                None => config_pending += 1,
            }
        }
    }
    Summary {
        devices: count,
        stopped_by,
        elapsed_s: elapsed.as_secs_f64(),
        provisioned: Counters::get(&counters.provisioned),
        refused: Counters::get(&counters.refused),
        check_ins,
        states,
        failure_reasons,
        errors: Counters::get(&counters.errors),
        first_error: counters.first_error_text(),
        configs,
        config_check_ins,
        config_pending,
        load,
    }
}
