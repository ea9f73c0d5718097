//! `fleet server --check-in-interval`: a check-in's answer tells the device the configured
//! interval; a value outside 10s..1d, or no duration at all, is a usage error before anything
//! starts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa};
use crate::device_updates_support::check_in;
use crate::scale_support::Deployment;

/// Kills the server process when the test ends, passing or not.
pub(crate) struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The admin API's URL and the device API's address and certificate fingerprint, as the
/// startup lines name them.
pub(crate) struct Started {
    pub url: String,
    pub device_addr: SocketAddr,
    pub fingerprint: String,
}

/// Starts `fleet server` on the deployment in `data_dir` with a device listener and `extra`.
pub(crate) fn start(cli: &Cli, data_dir: &std::path::Path, extra: &[&str]) -> (Killed, Started) {
    let mut args: Vec<String> = [
        "server",
        "--listen",
        "127.0.0.1:0",
        "--device-listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().expect("utf-8 data dir"),
        "--no-profile",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(backend::server_args(data_dir));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut child = cli
        .std_command()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fleet server");
    let stderr = child.stderr.take().expect("stderr");
    let child = Killed(child);
    let mut lines = BufReader::new(stderr).lines();
    let marker = "device API (mutual TLS) listening on ";
    let mut url = None;
    let mut startup = Vec::new();
    let (addr, fingerprint) = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| {
                panic!("the server exited before its device API listened: {startup:#?}")
            })
            .expect("stderr line");
        startup.push(line.clone());
        if let Some(rest) = line.split("fleet service listening on ").nth(1) {
            url = rest.split_whitespace().next().map(str::to_owned);
        }
        if let Some(rest) = line.split(marker).nth(1) {
            let addr = rest.split(';').next().expect("address").trim();
            let fingerprint = rest
                .split("SHA-256 ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .expect("fingerprint");
            break (
                addr.parse().expect("device address"),
                fingerprint.to_owned(),
            );
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let started = Started {
        url: url.expect("the admin API's address came first"),
        device_addr: addr,
        fingerprint,
    };
    (child, started)
}

#[test]
fn a_check_in_answer_carries_the_configured_interval() {
    let deployment = Deployment::new();
    let data_dir = deployment.data_dir.path();
    let (_server, started) = start(&Cli::new(), data_dir, &["--check-in-interval", "45s"]);
    let cli = Cli::with_profile(&started.url, &deployment.key);
    cli.run(&["product", "create", "sensor"]).success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &backend::storage(data_dir),
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            ..Jitp::default()
        },
    );
    let identity = ca.issue("sn-interval");
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let mut conn =
                device::connect(started.device_addr, &started.fingerprint, Some(&identity))
                    .await
                    .expect("connect");
            check_in(&mut conn, None).await
        });
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["next_check_in_s"], 45, "{answer:?}");
}

#[test]
fn a_check_in_interval_out_of_bounds_is_a_usage_error() {
    let cli = Cli::new();
    for bad in ["5s", "2d", "0s", "soon"] {
        let run = cli.run(&["server", "--check-in-interval", bad]).failure(2);
        assert!(run.stderr.contains("--check-in-interval"), "{run:#?}");
    }
    let run = cli.run(&["server", "--check-in-interval", "9s"]).failure(2);
    assert!(run.stderr.contains("must be from 10s to 1day"), "{run:#?}");
    let run = cli.run_with_env(&["server"], &[("FLEET_CHECK_IN_INTERVAL", "25h")]);
    run.failure(2);
}
