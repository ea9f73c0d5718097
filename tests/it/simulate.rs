//! `fleet simulate` against the real service with its device listener: simulated devices
//! provisioned just in time under a CA directory, the summary's shape, refusals and their exit
//! codes, and usage errors. Counts are asserted only where they are deterministic.

use std::path::Path;

use serde_json::{Value, json};

use crate::api_support::Api;
use crate::common::cli::{Cli, Run};
use crate::common::server::TestServer;

/// A CA directory (`ca.pem`, `ca.key`) as `fleet ca generate` writes it.
pub fn ca_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = fleet::pki::generate_ca(name, fleet::pki::Validity { days: 30 }).expect("CA");
    fleet::pki::write_new_files(
        dir.path(),
        &[
            (fleet::pki::CA_CERT_FILE, &ca.cert_pem, false),
            (fleet::pki::CA_KEY_FILE, &ca.key_pem, true),
        ],
    )
    .expect("write the CA");
    dir
}

/// A service with the device listener, product `sensor`, and the CA in `ca` registered for it
/// with JITP on.
pub(crate) async fn service_with_jitp(ca: &Path) -> Api {
    let api = Api::with_server(TestServer::start_with_devices(|_| {}));
    api.product("sensor").await;
    let pem = std::fs::read_to_string(ca.join(fleet::pki::CA_CERT_FILE)).expect("CA pem");
    let created = api
        .post(
            "/v1/products/sensor/cas",
            json!({"name": "factory", "certificate": pem, "jitp": {"enabled": true}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    api
}

/// `fleet simulate` against `server`'s device listener, pinning its certificate.
pub fn simulate(server: &TestServer, args: &[&str]) -> Run {
    let url = format!("https://{}", server.device_addr.expect("device listener"));
    let pin = server.device_fingerprint.clone().expect("fingerprint");
    let mut all = vec![
        "simulate",
        "--device-url",
        &url,
        "--server-fingerprint",
        &pin,
    ];
    all.extend_from_slice(args);
    Cli::new().run(&all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitp_provisions_every_simulated_device_on_its_first_request() {
    let ca = ca_dir("sim factory");
    let api = service_with_jitp(ca.path()).await;
    let ca_path = ca.path().to_str().expect("utf-8 path");
    let run = simulate(
        &api.server,
        &[
            "--ca",
            ca_path,
            "--count",
            "3",
            "--ping",
            "--duration",
            "200ms",
            "-o",
            "json",
        ],
    )
    .success();
    let summary = run.json();
    assert_eq!(summary["devices"], 3, "{summary}");
    assert_eq!(summary["provisioned"], 3, "{summary}");
    assert_eq!(summary["refused"], 0, "{summary}");
    assert_eq!(summary["stopped_by"], "duration", "{summary}");
    assert_eq!(summary["load"]["provisioning"]["requests"], 3, "{summary}");
    for field in ["requests", "seconds", "per_s"] {
        assert!(
            summary["load"]["ping"][field].is_number(),
            "{field}: {summary}"
        );
    }
    for field in ["p50", "p99", "max"] {
        assert!(
            summary["load"]["ping"]["latency_ms"][field].is_number(),
            "{field}: {summary}"
        );
    }
    let mut names = api.names("/v1/devices?product=sensor", "identifier").await;
    names.sort();
    assert_eq!(names, ["sim-0000", "sim-0001", "sim-0002"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_the_service_does_not_know_is_refused_with_exit_4_and_the_servers_reason() {
    let registered = ca_dir("registered");
    let api = service_with_jitp(registered.path()).await;
    let stranger = ca_dir("stranger");
    let ca_path = stranger.path().to_str().expect("utf-8 path");
    let run = simulate(
        &api.server,
        &[
            "-q",
            "--ca",
            ca_path,
            "--count",
            "2",
            "--ping",
            "--duration",
            "200ms",
        ],
    )
    .failure(4);
    assert!(run.stderr.contains("unknown CA"), "{}", run.stderr);
    assert!(run.stderr.contains("sim-000"), "{}", run.stderr);
    assert!(
        api.names("/v1/devices?product=sensor", "identifier")
            .await
            .is_empty()
    );
}

#[test]
fn nothing_listening_at_the_device_url_is_exit_8() {
    let ca = ca_dir("factory");
    let dead = crate::common::cli::dead_url().replace("http://", "https://");
    let run = Cli::new().run(&[
        "simulate",
        "-q",
        "--device-url",
        &dead,
        "--insecure",
        "--ca",
        ca.path().to_str().expect("utf-8 path"),
        "--count",
        "2",
        "--interval",
        "50ms",
        "--duration",
        "30s",
    ]);
    assert_eq!(run.code, 8, "{run:#?}");
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_before_anything_runs() {
    let ca = ca_dir("factory");
    let ca_path = ca.path().to_str().expect("utf-8 path");
    let base = [
        "simulate",
        "--device-url",
        "https://127.0.0.1:9",
        "--insecure",
        "--ca",
        ca_path,
    ];
    let cases: &[&[&str]] = &[
        &["--count", "0"],
        &["--count", "2", "--duration", "0s"],
        &["--count", "2", "--duration", "soon"],
        &["--count", "2", "--interval", "-1s"],
        &["--count", "2", "--fail-rate", "1.5"],
        &["--count", "2", "--running", "app"],
        &["--count", "2", "-o", "id"],
        &["--count", "2", "--until-settled", "--ping"],
    ];
    for extra in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let run = Cli::new().run(&args);
        assert_eq!(run.code, 2, "{extra:?}: {run:#?}");
        assert_eq!(run.stdout, "", "{extra:?}");
    }
    // No way to trust the server given: refused rather than trusting anything.
    let run = Cli::new().run(&[
        "simulate",
        "--device-url",
        "https://127.0.0.1:9",
        "--ca",
        ca_path,
        "--count",
        "1",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    // A URL that is not https.
    let run = Cli::new().run(&[
        "simulate",
        "--device-url",
        "http://127.0.0.1:9",
        "--insecure",
        "--ca",
        ca_path,
        "--count",
        "1",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("https://"), "{}", run.stderr);
}

/// A service (check-ins written before they are answered) with product `sensor`, cohort
/// `canary`, and the CA in `ca` registered with JITP into `canary` for target `armv7`.
pub(crate) fn rollout_service(ca: &Path) -> (TestServer, Cli) {
    let server = TestServer::start_with_devices(|config| {
        config.wait_for_check_in_writes = true;
    });
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let pem = ca.join(fleet::pki::CA_CERT_FILE);
    cli.run(&[
        "ca",
        "add",
        "factory",
        "-P",
        "sensor",
        "--cert",
        pem.to_str().expect("utf-8 path"),
        "--jitp",
        "--jitp-cohort",
        "canary",
        "--jitp-target",
        "armv7",
    ])
    .success();
    (server, cli)
}

/// Pushes `bytes` as app `version` for `armv7` and releases it to `canary` at 100%.
pub fn release(cli: &Cli, dir: &Path, version: &str, bytes: &[u8]) {
    let file = dir.join(format!("app-{version}.bin"));
    std::fs::write(&file, bytes).expect("firmware file");
    cli.run(&[
        "firmware",
        "push",
        file.to_str().expect("utf-8 path"),
        "-P",
        "sensor",
        "-a",
        "app",
        "--version",
        version,
        "-t",
        "armv7",
        "--release-to",
        "canary",
        "--rollout",
        "100",
    ])
    .success();
}

/// `failing` simulated devices whose installs all fail, then `succeeding` more, numbered after
/// them, whose installs all succeed, each wave until settled; checks both waves' counts.
/// Two waves rather than one with a fail rate below 1: which devices such a rate picks follows
/// the release's ID, new each run, so a mixed wave could come out all one way.
pub(crate) fn simulate_both_outcomes(
    server: &TestServer,
    ca: &Path,
    failing: usize,
    succeeding: usize,
) {
    let summary = simulate_until_settled(server, ca, &failing.to_string(), &["--fail-rate", "1"]);
    assert_eq!(summary["states"]["failed"], failing, "{summary}");
    let summary = simulate_until_settled(
        server,
        ca,
        &succeeding.to_string(),
        &["--first", &failing.to_string()],
    );
    assert_eq!(summary["states"]["succeeded"], succeeding, "{summary}");
}

/// `fleet simulate` until every device settled (bounded by a minute), as JSON.
pub(crate) fn simulate_until_settled(
    server: &TestServer,
    ca: &Path,
    count: &str,
    extra: &[&str],
) -> Value {
    let mut args = vec![
        "-q",
        "--ca",
        ca.to_str().expect("utf-8 path"),
        "--count",
        count,
        "--running",
        "app@1.0.0",
        "--target",
        "armv7",
        "--interval",
        "100ms",
        "--until-settled",
        "--duration",
        "60s",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let summary = simulate(server, &args).success().json();
    assert_eq!(summary["stopped_by"], "settled", "{summary}");
    summary
}

/// What `fleet device show -o json` says the device runs, as `artifact@version`.
fn running(shown: &Value) -> Vec<String> {
    shown["status"]["running"]
        .as_array()
        .expect("running")
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["artifact"].as_str().expect("artifact"),
                r["version"].as_str().expect("version")
            )
        })
        .collect()
}

fn status(cli: &Cli, device: &str) -> Value {
    cli.run(&["device", "show", device, "-o", "json"])
        .success()
        .json()
}

#[test]
fn simulated_devices_take_a_release_and_report_it_succeeded() {
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let files = tempfile::tempdir().expect("temp dir");
    release(&cli, files.path(), "1.1.0", &vec![b'x'; 5000]);
    let summary = simulate_until_settled(&server, ca.path(), "3", &[]);
    assert_eq!(summary["provisioned"], 3, "{summary}");
    assert_eq!(summary["states"]["succeeded"], 3, "{summary}");
    assert_eq!(summary["states"]["failed"], 0, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    for device in ["sim-0000", "sim-0001", "sim-0002"] {
        let shown = status(&cli, device);
        assert_eq!(
            shown["status"]["update"]["state"], "succeeded",
            "{device}: {shown}"
        );
        assert_eq!(running(&shown), ["app@1.1.0"], "{device}: {shown}");
    }
}

#[test]
fn a_fail_rate_of_one_fails_every_install_with_its_reason_for_the_operator() {
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let files = tempfile::tempdir().expect("temp dir");
    release(&cli, files.path(), "1.1.0", b"new firmware");
    let summary = simulate_until_settled(&server, ca.path(), "2", &["--fail-rate", "1"]);
    assert_eq!(summary["states"]["failed"], 2, "{summary}");
    assert_eq!(summary["states"]["succeeded"], 0, "{summary}");
    let reasons = summary["failure_reasons"].as_object().expect("reasons");
    assert_eq!(reasons.len(), 1, "{summary}");
    let (reason, count) = reasons.iter().next().expect("one reason");
    assert!(reason.contains("--fail-rate"), "{reason}");
    assert_eq!(count, 2);
    let shown = status(&cli, "sim-0001");
    let update = &shown["status"]["update"];
    assert_eq!(update["state"], "failed", "{shown}");
    let reason = update["reason"].as_str().expect("a reason");
    assert!(
        reason.contains("--fail-rate"),
        "the reason reaches the operator: {shown}"
    );
    assert_eq!(
        running(&shown),
        ["app@1.0.0"],
        "a failed install changes nothing: {shown}"
    );
}

/// Flips one byte of every file under `dir`, keeping each file's length.
fn corrupt_every_file(dir: &Path) -> usize {
    let mut corrupted = 0;
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            corrupted += corrupt_every_file(&path);
        } else {
            let mut bytes = std::fs::read(&path).expect("read blob");
            if let Some(first) = bytes.first_mut() {
                *first ^= 0x20;
                std::fs::write(&path, &bytes).expect("write blob");
                corrupted += 1;
            }
        }
    }
    corrupted
}

#[test]
fn a_corrupted_download_is_caught_by_the_digest_check_and_reported_failed() {
    // The damage is done to the local blob files; the check under test is the simulator's.
    if !crate::common::backend::local_blobs(
        "a_corrupted_download_is_caught_by_the_digest_check_and_reported_failed",
    ) {
        return;
    }
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let files = tempfile::tempdir().expect("temp dir");
    release(
        &cli,
        files.path(),
        "1.1.0",
        b"firmware the store will damage",
    );
    let blobs = server.data_dir.path().join("blobs");
    assert!(
        corrupt_every_file(&blobs) > 0,
        "no blob under {}",
        blobs.display()
    );
    let summary = simulate_until_settled(&server, ca.path(), "1", &[]);
    assert_eq!(summary["states"]["failed"], 1, "{summary}");
    let reasons = summary["failure_reasons"].as_object().expect("reasons");
    assert!(
        reasons.keys().all(|r| r.starts_with("digest mismatch")),
        "{summary}"
    );
    let shown = status(&cli, "sim-0000");
    let update = &shown["status"]["update"];
    assert_eq!(update["state"], "failed", "{shown}");
    let reason = update["reason"].as_str().expect("a reason");
    assert!(reason.starts_with("digest mismatch"), "{shown}");
}
