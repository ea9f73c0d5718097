//! Configurations reaching devices: the check-in answer carries the effective configuration
//! (secrets included) when it differs from the revision the device reports, a reported failure
//! stops the resending, the statistics count devices on the latest configuration, and a
//! simulated fleet converges within two check-ins per device.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api_support::Api;
use crate::common::server::TestServer;
use crate::device_updates_support::{post, setup};
use crate::simulate::{ca_dir, simulate};
use fleet::api::device_api::CHECK_IN_PATH;

async fn check_in(conn: &mut crate::common::device::DeviceConn, body: Value) -> Value {
    let answer = post(conn, CHECK_IN_PATH, &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()
}

fn put(cli: &crate::common::cli::Cli, args: &[&str]) {
    let mut all = vec!["config", "set"];
    all.extend_from_slice(args);
    cli.run(&all).success();
}

fn stats(cli: &crate::common::cli::Cli) -> Value {
    cli.run(&["product", "stats", "sensor", "-o", "json"])
        .success()
        .json()["config"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_deliver_the_effective_configuration_until_the_device_reports_it() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    // Nothing configured: nothing sent, and no configuration figures.
    let answer = check_in(&mut device, json!({})).await;
    assert_eq!(answer.get("config"), None, "{answer}");
    assert_eq!(stats(&fleet.cli), Value::Null);

    put(&fleet.cli, &["-P", "sensor", "log=info", "rate=10"]);
    put(
        &fleet.cli,
        &["-P", "sensor", "--cohort", "canary", "log=debug"],
    );
    put(&fleet.cli, &["-P", "sensor", "--secret", "token=hunter2"]);
    put(&fleet.cli, &["--device", "sn-1", "rate=null"]);
    let answer = check_in(&mut device, json!({})).await;
    let config = &answer["config"];
    // The device gets the merge, with the secret's real value.
    assert_eq!(
        config["document"],
        json!({"log": "debug", "token": "hunter2"})
    );
    let revision = config["revision"].as_i64().expect("revision");
    let shown = fleet
        .cli
        .run(&[
            "config",
            "show",
            "--device",
            "sn-1",
            "--effective",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(shown["effective_revision"], json!(revision));
    assert_eq!(
        stats(&fleet.cli),
        json!({"latest": 0, "pending": 1, "failed": 0})
    );

    // Reporting it: nothing more is sent, and the device counts as up to date.
    let answer = check_in(&mut device, json!({"config_revision": revision})).await;
    assert_eq!(answer.get("config"), None, "{answer}");
    assert_eq!(
        stats(&fleet.cli),
        json!({"latest": 1, "pending": 0, "failed": 0})
    );
    let status = fleet.show("sn-1");
    assert_eq!(status["status"]["config_revision"], json!(revision));

    // A change is sent at the next check-in, with a new revision.
    put(
        &fleet.cli,
        &["-P", "sensor", "--cohort", "canary", "log=warn"],
    );
    let answer = check_in(&mut device, json!({"config_revision": revision})).await;
    let newer = answer["config"]["revision"]
        .as_i64()
        .expect("a new configuration");
    assert_ne!(newer, revision);
    assert_eq!(answer["config"]["document"]["log"], json!("warn"));
    assert_eq!(
        stats(&fleet.cli),
        json!({"latest": 0, "pending": 1, "failed": 0})
    );

    // A device that cannot apply it says so once; that revision is not sent again.
    let failure = json!({"config_revision": revision,
        "config_failure": {"revision": newer, "reason": "unknown log level warn"}});
    let answer = check_in(&mut device, failure.clone()).await;
    assert_eq!(answer.get("config"), None, "{answer}");
    assert_eq!(
        stats(&fleet.cli),
        json!({"latest": 0, "pending": 0, "failed": 1})
    );
    // Going back to a revision it runs: nothing to send; it counts as up to date again.
    put(
        &fleet.cli,
        &["-P", "sensor", "--cohort", "canary", "log=debug"],
    );
    let answer = check_in(&mut device, failure).await;
    assert_eq!(answer.get("config"), None, "{answer}");
    assert_eq!(
        stats(&fleet.cli),
        json!({"latest": 1, "pending": 0, "failed": 0})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_failure_report_is_refused() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let body = json!({"config_failure": {"revision": 1, "reason": "x".repeat(2000)}});
    let answer = post(&mut device, CHECK_IN_PATH, &body).await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.json()["fields"][0]["field"], "config_failure.reason");
}

/// A service whose check-ins are written before they are answered (so the statistics read
/// right after a run see every one), product `sensor`, and the CA in `ca` with JITP on.
async fn service(ca: &std::path::Path) -> Api {
    let api = Api::with_server(TestServer::start_with_devices(|config| {
        config.wait_for_check_in_writes = true;
    }));
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

async fn set(api: &Api, body: Value) -> i64 {
    let resp = api
        .send(
            api.request(Method::PATCH, "/v1/products/sensor/config")
                .json(&body),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let effective = api.get("/v1/products/sensor/config?effective=true").await;
    effective.body["effective_revision"]
        .as_i64()
        .expect("effective revision")
}

/// The simulated fleet until every device settled; its summary.
fn converge(api: &Api, ca: &str) -> Value {
    simulate(
        &api.server,
        &[
            "--ca",
            ca,
            "--count",
            "4",
            "--interval",
            "100ms",
            "--until-settled",
            "--duration",
            "60s",
            "-o",
            "json",
        ],
    )
    .success()
    .json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_fleet_converges_within_two_check_ins_and_stats_say_so() {
    let ca = ca_dir("sim factory");
    let api = service(ca.path()).await;
    let ca_path = ca.path().to_str().expect("utf-8 path");
    let first = set(&api, json!({"set": {"log": "info"}})).await;
    let summary = converge(&api, ca_path);
    assert_eq!(summary["stopped_by"], "settled", "{summary}");
    assert_eq!(
        summary["configs"],
        json!({ first.to_string(): 4 }),
        "{summary}"
    );
    // Counted in check-ins, not time: applied from the first answer, reported at the second.
    assert_eq!(summary["config_check_ins"], json!(2), "{summary}");
    assert_eq!(summary["config_pending"], json!(0), "{summary}");
    let stats = api.get("/v1/products/sensor/stats").await;
    assert_eq!(
        stats.body["config"],
        json!({"latest": 4, "pending": 0, "failed": 0})
    );

    // A change: the statistics show nobody on it yet, then the fleet takes it the same way.
    let second = set(&api, json!({"set": {"log": "debug"}})).await;
    assert_ne!(first, second);
    let stats = api.get("/v1/products/sensor/stats").await;
    assert_eq!(
        stats.body["config"],
        json!({"latest": 0, "pending": 4, "failed": 0})
    );
    let summary = converge(&api, ca_path);
    assert_eq!(
        summary["configs"],
        json!({ second.to_string(): 4 }),
        "{summary}"
    );
    assert_eq!(summary["config_check_ins"], json!(2), "{summary}");
    let stats = api.get("/v1/products/sensor/stats").await;
    assert_eq!(
        stats.body["config"],
        json!({"latest": 4, "pending": 0, "failed": 0})
    );
}
