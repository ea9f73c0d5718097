//! The device listener: mutual TLS on `--device-listen`, its server certificate, and what it
//! admits: a device certificate under a registered CA of the device's product, never an API
//! key, and no request without a certificate.

use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa};
use crate::common::server::TestServer;

fn product(server: &TestServer, name: &str) {
    Cli::against(server)
        .run(&["product", "create", name])
        .success();
}

fn events(server: &TestServer, action: &str) -> Vec<serde_json::Value> {
    let run = Cli::against(server)
        .run(&["event", "list", "--action", action, "-o", "json"])
        .success();
    run.json().as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitp_creates_the_device_with_the_cas_defaults() {
    let server = TestServer::start_with_devices(|_| {});
    product(&server, "sensor");
    Cli::against(&server)
        .run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &server.storage,
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            cohort: Some("canary".to_owned()),
            tags: vec!["site:lab".to_owned()],
            target: Some("aarch64-unknown-linux-gnu".to_owned()),
            description: "provisioned by JITP".to_owned(),
        },
    );
    let identity = ca.issue("sn-0001");
    let addr = server.device_addr.expect("device listener");
    let fingerprint = server.device_fingerprint.clone().expect("fingerprint");
    let mut conn = device::connect(addr, &fingerprint, Some(&identity))
        .await
        .expect("connect");
    let answer = conn
        .get(fleet::api::device_api::PING_PATH)
        .await
        .expect("ping");
    assert_eq!(answer.status, 204, "{answer:?}");

    let shown = Cli::against(&server)
        .run(&["device", "show", "sn-0001", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["product"], "sensor");
    assert_eq!(shown["cohort"], "canary");
    assert_eq!(shown["tags"], serde_json::json!(["site:lab"]));
    assert_eq!(shown["target"], "aarch64-unknown-linux-gnu");
    assert_eq!(shown["description"], "provisioned by JITP");
    let provisioned = events(&server, "device.provisioned");
    assert_eq!(provisioned.len(), 1, "{provisioned:?}");
    assert_eq!(provisioned[0]["resource_id"], shown["id"]);
    assert_eq!(
        provisioned[0]["details"]["fingerprint"],
        identity.fingerprint
    );
}
