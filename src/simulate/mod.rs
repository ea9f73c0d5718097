//! `fleet simulate`'s fleet: N simulated devices, each on its own keep-alive mutual-TLS
//! connection to the device API, checking in, taking offered updates (download, verify, report)
//! and failing a chosen share of installs; or, in the load mode, sending check-ins or pings back
//! to back. Pure logic over [`crate::client::device`]: the command renders what it returns.

mod choice;
mod device;
mod identities;
mod run;
mod stats;
mod verify;

use std::time::Duration;

use crate::api::device_api::RunningArtifact;

pub use identities::{issue_identities, load_identities};
pub use run::Simulation;
pub use stats::{Counters, LoadFigures, Rate, Snapshot, StateCounts, Stop, Summary};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub count: usize,
    /// The number of the first device (`--first`): its choices (`--fail-rate`) follow its
    /// number, so a device decides the same whichever run it is in.
    pub first: usize,
    /// Time between check-ins (jittered ±10%); the first comes anywhere within one interval.
    pub interval: Duration,
    /// The longest the run lasts (each phase, in the load mode).
    pub duration: Duration,
    /// Share of installs that fail, 0.0–1.0.
    pub fail_rate: f64,
    pub seed: u64,
    /// The target each device reports.
    pub target: Option<String>,
    /// What each device runs at start.
    pub running: Vec<RunningArtifact>,
    /// Devices connecting (TLS handshake and first check-in) at once.
    pub concurrency: usize,
    /// Stop once every device reported a final state or has nothing offered.
    pub until_settled: bool,
    /// The load mode, when set.
    pub load: Option<Load>,
}

/// The load mode: after every device connected, back-to-back requests for `duration` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub check_ins: bool,
    pub ping: bool,
}
