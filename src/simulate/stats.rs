//! What a simulation counts: live counters every device task bumps (read by the live status
//! line), latency samples, and the final [`Summary`] (`-o json` prints it as is).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;

/// Bumped by the device tasks, read at any time.
#[derive(Debug, Default)]
pub struct Counters {
    /// Devices whose first check-in succeeded (JITP provisions a new device there).
    pub provisioned: AtomicU64,
    pub check_ins: AtomicU64,
    pub pings: AtomicU64,
    /// Devices between `downloading` and a final report.
    pub updating: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    /// Requests that failed (network, refused, server errors).
    pub errors: AtomicU64,
    /// Devices the server refused (their certificate): they stop.
    pub refused: AtomicU64,
    /// Devices whose first check-in failed.
    pub never_checked_in: AtomicU64,
    /// Devices with nothing more to do for now (nothing offered, or a final state reported).
    pub settled: AtomicU64,
    /// The first error any device met, kept for the summary and for the exit code when no
    /// device got through at all.
    first_error: Mutex<Option<Error>>,
    first_error_text: Mutex<Option<String>>,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn drop_one(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts a failed request, keeping the first error whole.
    pub fn error(&self, err: Error) {
        Self::bump(&self.errors);
        if let Ok(mut first) = self.first_error.lock()
            && first.is_none()
        {
            if let Ok(mut text) = self.first_error_text.lock() {
                *text = Some(err.message.clone());
            }
            *first = Some(err);
        }
    }

    pub fn take_first_error(&self) -> Option<Error> {
        self.first_error
            .lock()
            .ok()
            .and_then(|mut first| first.take())
    }

    pub fn first_error_text(&self) -> Option<String> {
        self.first_error_text
            .lock()
            .ok()
            .and_then(|text| text.clone())
    }

    /// The counts the live status line shows.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            provisioned: Self::get(&self.provisioned),
            check_ins: Self::get(&self.check_ins),
            pings: Self::get(&self.pings),
            updating: Self::get(&self.updating),
            succeeded: Self::get(&self.succeeded),
            failed: Self::get(&self.failed),
            errors: Self::get(&self.errors),
        }
    }
}

/// A moment's counts, for the live status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub provisioned: u64,
    pub check_ins: u64,
    pub pings: u64,
    pub updating: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub errors: u64,
}

/// Percentiles of request latency, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// From samples in microseconds (sorted here); zeros when there are none.
    pub fn of(samples: &mut [u32]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let rank = ((samples.len() as f64) * q).ceil() as usize;
            f64::from(samples[rank.clamp(1, samples.len()) - 1]) / 1000.0
        };
        Latency {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Microseconds, saturating, for a latency sample.
pub fn micros(elapsed: Duration) -> u32 {
    u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX)
}

/// Requests of one kind over a timed phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub requests: u64,
    pub seconds: f64,
    pub per_s: f64,
    pub latency_ms: Latency,
}

impl Rate {
    pub fn new(requests: u64, elapsed: Duration, samples: &mut [u32]) -> Rate {
        let seconds = elapsed.as_secs_f64();
        Rate {
            requests,
            seconds,
            per_s: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            latency_ms: Latency::of(samples),
        }
    }
}

/// Devices by the latest update state they reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub downloading: u64,
    pub installing: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// `--duration` passed.
    Duration,
    /// `--until-settled`: every device reported a final state or had nothing offered.
    Settled,
    /// Ctrl-C.
    Interrupted,
    /// No device could check in at all.
    NoDeviceGotThrough,
}

/// The end of a run, as `-o json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub devices: u64,
    pub stopped_by: Stop,
    pub elapsed_s: f64,
    /// Devices whose first check-in succeeded.
    pub provisioned: u64,
    /// Devices the server refused.
    pub refused: u64,
    /// Check-ins over the whole run (the load phase's own figures are in `load`).
    pub check_ins: Rate,
    /// Devices by their latest update report.
    pub states: StateCounts,
    /// Reported `failed` reasons with how many devices gave each.
    pub failure_reasons: BTreeMap<String, u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Devices by the configuration revision they applied last (a device sent none is not
    /// counted).
    pub configs: BTreeMap<i64, u64>,
    /// The most check-ins any device made until the service had its configuration: a device
    /// takes the configuration from one check-in's answer and reports it at the next, so 2
    /// when every device converged within two check-ins. `null` when none was sent one.
    pub config_check_ins: Option<u32>,
    /// Devices sent a configuration that had not reported it applied when the run ended.
    pub config_pending: u64,
    /// The load mode's phases (`--check-ins-only`, `--ping`), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadFigures>,
}

/// The load mode's figures: set-up of every connection (JITP for new devices) and the
/// back-to-back phases over those connections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadFigures {
    /// Connecting every device and its first check-in, `--concurrency` at a time.
    pub provisioning: Rate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_ins: Option<Rate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping: Option<Rate>,
}

#[cfg(test)]
mod tests {
    use super::{Latency, Rate};
    use std::time::Duration;

    #[test]
    fn percentiles_are_nearest_rank_in_milliseconds() {
        let mut samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        samples.reverse();
        let latency = Latency::of(&mut samples);
        assert_eq!(latency.p50, 50.0);
        assert_eq!(latency.p99, 99.0);
        assert_eq!(latency.max, 100.0);
        assert_eq!(Latency::of(&mut []), Latency::default());
    }

    #[test]
    fn a_rate_is_requests_over_seconds() {
        let rate = Rate::new(500, Duration::from_secs(2), &mut [1000]);
        assert_eq!(rate.per_s, 250.0);
        assert_eq!(Rate::new(5, Duration::ZERO, &mut []).per_s, 0.0);
    }
}
