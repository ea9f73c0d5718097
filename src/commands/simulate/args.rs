//! `fleet simulate`'s flags and how they read (durations, rates, `artifact@version`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args};

use crate::api::device_api::RunningArtifact;

/// Run simulated devices against the device API: check-ins, updates, reports
///
/// Each device connects with its own client certificate (issued under a CA with --ca and
/// provisioned just in time, or read from --certs), checks in every --interval, takes the
/// update it is offered (reports downloading, downloads and verifies each binary's size,
/// SHA-256 and signatures, reports installing, then succeeded — or failed for a --fail-rate
/// share of devices), until --duration or Ctrl-C. A live status line goes to stderr; the
/// summary goes to stdout (`-o json` for programs).
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet simulate [OPTIONS] --device-url <URL> <--ca <DIR>|--certs <DIR>>\n       <--server-fingerprint <SHA256>|--server-ca <PEM>|--insecure>",
    group(ArgGroup::new("identities").required(true).args(["ca", "certs"])),
    group(ArgGroup::new("trust").required(true).args(["server_fingerprint", "server_ca", "insecure"])),
    after_help = "Examples:\n  \
    # Rehearse a rollout: 500 devices JITP-provisioned under a CA, 5% failing\n  \
    fleet simulate --device-url https://127.0.0.1:8443 \\\n      \
    --server-fingerprint 3f:a1:… --ca ./factory-ca --count 500 \\\n      \
    --running app@1.0.0 --target armv7 --interval 10s \\\n      \
    --fail-rate 0.05 --duration 10m\n\n  \
    # Until every device settled (a final report, or nothing offered), as JSON\n  \
    fleet simulate --device-url https://127.0.0.1:8443 --insecure \\\n      \
    --certs ./devices --interval 1s --until-settled --duration 5m -o json\n\n  \
    # Load: back-to-back check-ins, then pings, 30 s each, same connections\n  \
    fleet simulate --device-url https://127.0.0.1:8443 --insecure \\\n      \
    --ca ./factory-ca --count 10000 --check-ins-only --ping --duration 30s\n\n  \
    # The next 10,000 devices (sim-10000 … sim-19999), checked in once\n  \
    fleet simulate --device-url https://127.0.0.1:8443 --insecure \\\n      \
    --ca ./factory-ca --first 10000 --count 10000 --check-ins-only \\\n      \
    --duration 1s\n\n\
    Exit codes: 0 the run completed (failed installs and request errors are\n\
    counted in the summary); 2 usage; 4 the server refused every device's\n\
    certificate; 8 no device could connect."
)]
pub struct SimulateArgs {
    /// The device API's URL (`fleet server --device-listen`), e.g. https://127.0.0.1:8443
    #[arg(long, env = "FLEET_DEVICE_URL", value_name = "URL")]
    pub device_url: String,

    /// Number of devices [default with --certs: every pair in the directory]
    #[arg(long, value_name = "N", required_unless_present = "certs",
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub count: Option<u64>,

    /// Issue each device a certificate under the CA in DIR (`fleet ca generate`); identifiers
    /// sim-0000, sim-0001, …, provisioned by JITP on their first check-in
    #[arg(long, value_name = "DIR")]
    pub ca: Option<PathBuf>,

    /// With --ca, the number of the first device: identifiers start at sim-N. A device's
    /// number alone makes its identifier (at least four digits: sim-0042, sim-10000), so
    /// runs with --first 0, 10000, 20000 … and --count 10000 make distinct devices
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "certs",
        value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    pub first: u64,

    /// Use existing device certificates: <identifier>.pem and <identifier>.key pairs in DIR
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,

    /// Trust the server whose certificate has this SHA-256 fingerprint (`fleet server` prints it)
    #[arg(long, value_name = "SHA256")]
    pub server_fingerprint: Option<String>,

    /// Trust server certificates issued by the CA(s) in this PEM file
    #[arg(long, value_name = "PEM")]
    pub server_ca: Option<PathBuf>,

    /// Do not check the server's certificate at all (development only; a warning says so)
    #[arg(long)]
    pub insecure: bool,

    /// Time between a device's check-ins (jittered ±10%; the first falls anywhere within one)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = positive_duration)]
    pub interval: Duration,

    /// How long the run lasts at most (in the load mode: each phase)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = positive_duration)]
    pub duration: Duration,

    /// Share of installs that fail, from 0 to 1 (the same devices for the same --seed)
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate)]
    pub fail_rate: f64,

    /// Seed of every random choice (jitter, failing devices): the same seed, the same run
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Hardware target the devices report, e.g. armv7-unknown-linux-gnueabihf
    #[arg(long, value_name = "T")]
    pub target: Option<String>,

    /// What each device runs at start, as ARTIFACT@VERSION (repeat for more artifacts)
    #[arg(long, value_name = "ARTIFACT@VERSION", value_parser = running)]
    pub running: Vec<RunningArtifact>,

    /// Devices connecting at once (TLS handshake and first check-in, where JITP happens)
    #[arg(long, value_name = "N", default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub concurrency: u64,

    /// Stop as soon as every device reported a final state or has nothing offered
    /// (--duration still bounds the run)
    #[arg(long, conflicts_with_all = ["check_ins_only", "ping"])]
    pub until_settled: bool,

    /// Load mode: after every device connected, check in back to back for --duration (no
    /// interval, no updates taken); measures check-ins/s and latency
    #[arg(long)]
    pub check_ins_only: bool,

    /// Load mode: authenticated no-op requests back to back for --duration, over the same
    /// connections (after the check-ins, with --check-ins-only): the baseline
    #[arg(long)]
    pub ping: bool,
}

/// A duration above zero, such as `30s`, `500ms` or `5m`.
fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|err| format!("{err}; use a duration such as 30s, 500ms or 5m"))?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

/// A share from 0 to 1.
fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number; use a share such as 0.05"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err("must be between 0 and 1 (0.05 is 5%)".to_owned());
    }
    Ok(value)
}

/// `ARTIFACT@VERSION`.
fn running(text: &str) -> Result<RunningArtifact, String> {
    match text.split_once('@') {
        Some((artifact, version)) if !artifact.is_empty() && !version.is_empty() => {
            Ok(RunningArtifact {
                artifact: artifact.to_owned(),
                version: version.to_owned(),
                sha256: None,
            })
        }
        _ => Err(format!("`{text}` is not ARTIFACT@VERSION, e.g. app@1.0.0")),
    }
}

#[cfg(test)]
mod tests {
    use super::{positive_duration, rate, running};
    use std::time::Duration;

    #[test]
    fn durations_must_be_positive() {
        assert_eq!(positive_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(positive_duration("0s").is_err());
        assert!(positive_duration("soon").is_err());
    }

    #[test]
    fn rates_are_shares_from_zero_to_one() {
        assert_eq!(rate("0.05"), Ok(0.05));
        assert_eq!(rate("1"), Ok(1.0));
        assert!(rate("1.5").is_err());
        assert!(rate("-0.1").is_err());
        assert!(rate("five").is_err());
    }

    #[test]
    fn running_artifacts_are_artifact_at_version() {
        let parsed = running("app@1.0.0").expect("valid");
        assert_eq!(
            (parsed.artifact.as_str(), parsed.version.as_str()),
            ("app", "1.0.0")
        );
        for bad in ["app", "@1.0", "app@"] {
            assert!(running(bad).is_err(), "{bad} accepted");
        }
    }
}
