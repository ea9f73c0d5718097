//! Rollout control against the real service and `fleet simulate`: a bad release halts itself
//! once its guard has its sample (and no new device gets it afterwards), a good one advances
//! through its schedule as a manual clock passes each wait (each step once, even when two
//! evaluations race), and bad schedules are refused. Time moves only by the test's clock.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet::server::Clock;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::backend::rows;
use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::simulate::{ca_dir, release, simulate};

fn start_time() -> DateTime<Utc> {
    "2030-01-01T00:00:00Z".parse().expect("time")
}

/// A service on a manual clock (check-ins written before they are answered) with product
/// `sensor`, cohort `canary`, the CA in `ca` registered with JITP into `canary` for `armv7`,
/// and app 1.1.0 released to `canary`. Returns the release's ID.
fn service(ca: &Path, clock: &Clock, files: &Path) -> (TestServer, Cli, String) {
    let clock = clock.clone();
    let server = TestServer::start_with_devices(move |config| {
        config.wait_for_check_in_writes = true;
        config.clock = clock;
        // The test evaluates when it chooses; the service's own tick stays out of the way.
        config.rollout_interval = Duration::from_secs(24 * 3600);
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
    release(&cli, files, "1.1.0", b"new firmware");
    let releases = cli
        .run(&["release", "list", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    let id = releases[0]["id"].as_str().expect("release id").to_owned();
    (server, cli, id)
}

/// PATCHes the release through the API, expecting 200.
fn patch(server: &TestServer, release: &str, body: Value) -> Value {
    let url = format!("{}/v1/products/sensor/releases/{release}", server.url);
    let key = server.api_key.clone();
    let (status, body) = blocking(async move {
        let answer = reqwest::Client::new()
            .patch(url)
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("send");
        let status = answer.status().as_u16();
        (status, answer.json::<Value>().await.expect("json"))
    });
    assert_eq!(status, 200, "{body}");
    body
}

fn blocking<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
    .expect("thread")
}

/// One evaluation of the rollout controller at the clock's time.
fn evaluate(server: &TestServer, clock: &Clock) -> fleet::server::RolloutEvaluation {
    let (storage, now) = (server.storage.clone(), clock.now());
    blocking(async move {
        fleet::server::evaluate_rollouts(storage, now)
            .await
            .expect("evaluate")
    })
}

fn show(cli: &Cli, release: &str) -> Value {
    cli.run(&["release", "show", release, "-o", "json"])
        .success()
        .json()
}

fn events(cli: &Cli, action: &str, release: &str) -> Vec<Value> {
    cli.run(&[
        "event",
        "list",
        "--action",
        action,
        "--resource",
        release,
        "-o",
        "json",
    ])
    .success()
    .json()
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// `fleet simulate` of `count` devices until every one settled (bounded by a minute).
fn simulate_settled(server: &TestServer, ca: &Path, count: &str, fail_rate: &str) -> Value {
    let args = [
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
        "--fail-rate",
        fail_rate,
        "-o",
        "json",
    ];
    let summary = simulate(server, &args).success().json();
    assert_eq!(summary["stopped_by"], "settled", "{summary}");
    summary
}

/// Identifiers of the devices that reported anything for `release`, from the raw tables.
fn devices_with_reports(server: &TestServer, release: &str) -> Vec<String> {
    let mut found: Vec<String> = rows(
        &server.storage,
        &format!(
            "SELECT DISTINCT d.identifier FROM update_reports u JOIN device_records d ON d.id = u.device_id \
             WHERE u.release_id = '{release}'"
        ),
    )
    .into_iter()
    .filter_map(|row| row.into_iter().next().flatten())
    .collect();
    found.sort();
    found
}

/// (devices with a final report, devices whose final outcome failed) for `release`, counted
/// from the raw reports.
fn raw_outcomes(server: &TestServer, release: &str) -> (u64, u64) {
    let count = |sql: String| -> u64 {
        rows(&server.storage, &sql)[0][0]
            .as_deref()
            .expect("a count")
            .parse()
            .expect("a number")
    };
    let total = count(format!(
        "SELECT CAST(COUNT(DISTINCT device_id) AS TEXT) FROM update_reports \
         WHERE release_id = '{release}' AND state IN ('succeeded', 'failed', 'rolled_back')"
    ));
    let failed = count(format!(
        "SELECT CAST(COUNT(DISTINCT device_id) AS TEXT) FROM update_reports u \
         WHERE release_id = '{release}' AND state IN ('failed', 'rolled_back') \
         AND NOT EXISTS (SELECT 1 FROM update_reports s WHERE s.release_id = u.release_id \
         AND s.device_id = u.device_id AND s.state = 'succeeded')"
    ));
    (total, failed)
}

/// The rollout bucket of a device for a release, computed apart from the service: the first
/// 8 bytes of SHA-256 over `release/device`, big-endian, modulo 100.
fn bucket(release: &str, device_id: &str) -> u64 {
    let digest = Sha256::digest(format!("{release}/{device_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100
}

/// Identifiers of the product's devices inside the rollout at `percent`.
fn inside(cli: &Cli, release: &str, percent: u64) -> Vec<String> {
    let devices = cli
        .run(&["device", "list", "-P", "sensor", "--all", "-o", "json"])
        .success()
        .json();
    let mut found: Vec<String> = devices
        .as_array()
        .expect("devices")
        .iter()
        .filter(|d| bucket(release, d["id"].as_str().expect("id")) < percent)
        .map(|d| d["identifier"].as_str().expect("identifier").to_owned())
        .collect();
    found.sort();
    found
}

#[test]
fn a_thirty_percent_failure_rate_halts_the_release_once_the_sample_is_in_and_no_new_device_gets_it()
{
    let ca = ca_dir("factory");
    let files = tempfile::tempdir().expect("temp dir");
    let clock = Clock::manual(start_time());
    let (server, cli, release) = service(ca.path(), &clock, files.path());
    let guarded = patch(
        &server,
        &release,
        json!({"halt_on_failure_rate": 5, "min_reports": 20}),
    );
    assert_eq!(guarded["guard"]["halt_on_failure_rate"], 5.0, "{guarded}");
    assert_eq!(guarded["state"], "active", "{guarded}");

    simulate_settled(&server, ca.path(), "30", "0.3");
    let shown = show(&cli, &release);
    assert_eq!(shown["state"], "halted", "{shown}");
    let halted = events(&cli, "release.halted", &release);
    assert_eq!(halted.len(), 1, "one halt: {halted:?}");
    let figures = &halted[0]["details"];
    assert_eq!(figures["by"], "guard", "{figures}");
    assert_eq!(figures["threshold"], 5.0, "{figures}");
    let (failed, total) = (
        figures["failed"].as_u64().expect("failed"),
        figures["total"].as_u64().expect("total"),
    );
    assert!(total >= 20, "not before the minimum sample: {figures}");
    assert!(failed * 100 > 5 * total, "above the threshold: {figures}");
    let rate = figures["rate"].as_f64().expect("rate");
    assert!(
        (rate - failed as f64 * 100.0 / total as f64).abs() < 0.01,
        "{figures}"
    );
    // The counts the release carries are the raw reports' (devices mid-update finished).
    let (raw_total, raw_failed) = raw_outcomes(&server, &release);
    assert!(raw_total >= total, "{raw_total} < {total}");
    assert_eq!(shown["final_reports"], raw_total, "{shown}");
    assert_eq!(shown["failed_reports"], raw_failed, "{shown}");

    // Fifteen devices more (sim-0030…): none of them is offered the halted release.
    let before = devices_with_reports(&server, &release);
    simulate_settled(&server, ca.path(), "45", "0.3");
    let devices = cli
        .run(&["device", "list", "-P", "sensor", "--all", "-o", "json"])
        .success()
        .json();
    assert_eq!(
        devices.as_array().map(Vec::len),
        Some(45),
        "all provisioned"
    );
    assert_eq!(devices_with_reports(&server, &release), before);
    assert!(before.iter().all(|d| d.as_str() < "sim-0030"), "{before:?}");

    // A halted release takes no step, whatever the clock says.
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    assert_eq!(evaluate(&server, &clock).advanced, 0);
    assert_eq!(show(&cli, &release)["state"], "halted");
}

#[test]
fn a_one_percent_failure_rate_advances_through_its_schedule_as_the_clock_passes_each_wait() {
    let ca = ca_dir("factory");
    let files = tempfile::tempdir().expect("temp dir");
    let clock = Clock::manual(start_time());
    let (server, cli, release) = service(ca.path(), &clock, files.path());
    // A guard that 1% failures do not trip (more than 20% of at least 20).
    let scheduled = patch(
        &server,
        &release,
        json!({"schedule": "10%,50%@1h,100%@6h", "halt_on_failure_rate": 20}),
    );
    assert_eq!(scheduled["rollout_percent"], 10, "{scheduled}");
    assert_eq!(scheduled["current_step"], 1, "{scheduled}");
    assert_eq!(scheduled["step_applied_at"], "2030-01-01T00:00:00Z");
    assert_eq!(scheduled["next_step_at"], "2030-01-01T01:00:00Z");
    assert_eq!(scheduled["guard"]["min_reports"], 20, "the default");

    simulate_settled(&server, ca.path(), "40", "0.01");
    assert_eq!(
        devices_with_reports(&server, &release),
        inside(&cli, &release, 10)
    );

    assert_eq!(evaluate(&server, &clock).advanced, 0, "no wait passed yet");
    clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(evaluate(&server, &clock).advanced, 0, "59 minutes of 60");
    assert_eq!(show(&cli, &release)["rollout_percent"], 10);
    clock.advance(Duration::from_secs(60));
    assert_eq!(evaluate(&server, &clock).advanced, 1);
    let shown = show(&cli, &release);
    assert_eq!(shown["rollout_percent"], 50, "{shown}");
    assert_eq!(shown["current_step"], 2, "{shown}");
    assert_eq!(shown["state"], "active", "{shown}");
    assert_eq!(shown["next_step_at"], "2030-01-01T07:00:00Z", "{shown}");
    let advanced = events(&cli, "release.advanced", &release);
    assert_eq!(advanced.len(), 1, "{advanced:?}");
    assert_eq!(advanced[0]["details"]["from_percent"], 10);
    assert_eq!(advanced[0]["details"]["to_percent"], 50);

    simulate_settled(&server, ca.path(), "40", "0.01");
    assert_eq!(
        devices_with_reports(&server, &release),
        inside(&cli, &release, 50)
    );

    // The last wait counts from when 50% applied; two evaluations racing take the step once.
    clock.advance(Duration::from_secs(6 * 3600 - 1));
    assert_eq!(evaluate(&server, &clock).advanced, 0);
    clock.advance(Duration::from_secs(1));
    let (storage, now) = (server.storage.clone(), clock.now());
    let (a, b) = blocking(async move {
        let one = fleet::server::evaluate_rollouts(storage.clone(), now);
        let two = fleet::server::evaluate_rollouts(storage, now);
        let (a, b) = tokio::join!(one, two);
        (a.expect("evaluate"), b.expect("evaluate"))
    });
    assert_eq!(a.advanced + b.advanced, 1, "{a:?} {b:?}");
    let shown = show(&cli, &release);
    assert_eq!(shown["rollout_percent"], 100, "{shown}");
    assert_eq!(shown["state"], "completed", "{shown}");
    assert_eq!(shown["next_step_at"], Value::Null, "{shown}");
    assert_eq!(events(&cli, "release.advanced", &release).len(), 2);
    assert!(events(&cli, "release.halted", &release).is_empty());

    simulate_settled(&server, ca.path(), "40", "0.01");
    assert_eq!(devices_with_reports(&server, &release).len(), 40);
}

#[test]
fn bad_schedules_and_guards_are_refused_with_422_and_say_why() {
    let ca = ca_dir("factory");
    let files = tempfile::tempdir().expect("temp dir");
    let clock = Clock::manual(start_time());
    let (server, _cli, release) = service(ca.path(), &clock, files.path());
    let cases = [
        (
            json!({"schedule": "10%,5%@1h"}),
            "schedule",
            "must be above step 1",
        ),
        (json!({"schedule": "0%,10%@1h"}), "schedule", "1% to 100%"),
        (json!({"schedule": "10%,150%@1h"}), "schedule", "0% to 100%"),
        (
            json!({"schedule": "10%,50%@soon"}),
            "schedule",
            "is not a wait",
        ),
        (json!({"schedule": "10%@1h"}), "schedule", "no @wait"),
        (
            json!({"schedule": "10%,50%@1h", "rollout_percent": 20}),
            "schedule",
            "not both",
        ),
        (
            json!({"halt_on_failure_rate": 101}),
            "halt_on_failure_rate",
            "0 to 100",
        ),
        (
            json!({"halt_on_failure_rate": -1}),
            "halt_on_failure_rate",
            "0 to 100",
        ),
        (
            json!({"min_reports": 5}),
            "min_reports",
            "halt_on_failure_rate",
        ),
        (
            json!({"halt_on_failure_rate": 5, "min_reports": 0}),
            "min_reports",
            "at least 1",
        ),
    ];
    let url = format!("{}/v1/products/sensor/releases/{release}", server.url);
    let create_url = format!("{}/v1/products/sensor/releases", server.url);
    for (body, field, message) in cases {
        for (method, url, body) in [
            (reqwest::Method::PATCH, url.clone(), body.clone()),
            (reqwest::Method::POST, create_url.clone(), {
                let mut create = body.clone();
                create["cohort"] = json!("canary");
                create["bundle"] = json!(show_bundle(&server, &release));
                create
            }),
        ] {
            let key = server.api_key.clone();
            let (status, answer) = blocking(async move {
                let answer = reqwest::Client::new()
                    .request(method, url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                let status = answer.status().as_u16();
                (status, answer.json::<Value>().await.expect("json"))
            });
            assert_eq!(status, 422, "{answer}");
            let fields = answer["fields"].as_array().expect("fields");
            assert!(
                fields.iter().any(|f| f["field"] == field
                    && f["message"].as_str().is_some_and(|m| m.contains(message))),
                "{field}: {message}: {answer}"
            );
        }
    }
}

fn show_bundle(server: &TestServer, release: &str) -> String {
    let shown = Cli::against(server)
        .run(&["release", "show", release, "-o", "json"])
        .success()
        .json();
    shown["bundle"].as_str().expect("bundle").to_owned()
}
