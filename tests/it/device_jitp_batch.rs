//! Devices provisioned just in time in batches: many first connections at once each make
//! their device exactly once, with one `device.provisioned` event; two presentations of one
//! new identifier make one device; a refusal (archived product, invalid identifier) in the
//! same burst as good devices refuses only its own.

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa, events, ping_as, refusals};
use crate::common::server::TestServer;

fn jitp() -> Jitp {
    Jitp {
        enabled: true,
        description: "batched".to_owned(),
        ..Jitp::default()
    }
}

fn count(server: &TestServer, sql: &str) -> String {
    let rows = backend::rows(&server.storage, sql);
    rows[0][0].clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_first_connections_at_once_make_each_device_once() {
    let server = TestServer::start_with_devices(|_| {});
    Cli::against(&server)
        .run(&["product", "create", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp());
    let mut identities: Vec<_> = (0..50).map(|i| ca.issue(&format!("sn-{i:02}"))).collect();
    // Two more first connections of sn-07, each with a certificate of its own.
    identities.push(ca.issue("sn-07"));
    identities.push(ca.issue("sn-07"));
    let answers =
        futures_util::future::join_all(identities.iter().map(|id| ping_as(&server, Some(id))))
            .await;
    assert!(answers.iter().all(|a| a.status == 204), "{answers:?}");

    assert_eq!(
        count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM devices"),
        "50"
    );
    assert_eq!(
        count(
            &server,
            "SELECT CAST(COUNT(DISTINCT identifier) AS TEXT) FROM device_records \
             WHERE description = 'batched'"
        ),
        "50"
    );
    assert_eq!(
        count(
            &server,
            "SELECT CAST(COUNT(*) AS TEXT) FROM device_certificates"
        ),
        "52"
    );
    let provisioned = events(&server, "device.provisioned");
    assert_eq!(provisioned.len(), 50, "{provisioned:?}");
    let mut devices: Vec<_> = provisioned
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    devices.sort();
    devices.dedup();
    assert_eq!(devices.len(), 50, "one event per device");
    assert!(
        provisioned
            .iter()
            .all(|e| e["details"]["created"] == true && e["details"]["ca_id"].is_string()),
        "{provisioned:?}"
    );
    // sn-07's three certificates are all recorded for its one device.
    assert_eq!(
        count(
            &server,
            "SELECT CAST(COUNT(*) AS TEXT) FROM device_certificates c \
             JOIN device_records d ON d.id = c.device_id WHERE d.identifier = 'sn-07'"
        ),
        "3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_in_a_burst_refuse_only_their_own_devices() {
    let server = TestServer::start_with_devices(|_| {});
    for name in ["sensor", "retired"] {
        Cli::against(&server)
            .run(&["product", "create", name])
            .success();
    }
    let live = TestCa::new("sensor factory");
    let old = TestCa::new("retired factory");
    device::insert_ca_fixture(&server.storage, "sensor", &live, &jitp());
    device::insert_ca_fixture(&server.storage, "retired", &old, &jitp());
    Cli::against(&server)
        .run(&["product", "archive", "retired", "--yes"])
        .success();

    let mut identities = Vec::new();
    for i in 0..12 {
        identities.push((204, live.issue(&format!("good-{i:02}"))));
        if i % 3 == 0 {
            identities.push((403, old.issue(&format!("old-{i:02}"))));
        }
    }
    identities.push((403, live.issue("not valid!")));
    let answers = futures_util::future::join_all(
        identities
            .iter()
            .map(|(_, identity)| ping_as(&server, Some(identity))),
    )
    .await;
    for ((status, identity), answer) in identities.iter().zip(&answers) {
        assert_eq!(
            answer.status, *status,
            "{}: {answer:?}",
            identity.fingerprint
        );
    }
    let names: Vec<_> = backend::rows(&server.storage, "SELECT identifier FROM device_records")
        .into_iter()
        .filter_map(|row| row[0].clone())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("good-")), "{names:?}");
    assert_eq!(events(&server, "device.provisioned").len(), 12);
    assert_eq!(refusals(&server, "product archived").len(), 4);
    assert_eq!(refusals(&server, "invalid identifier").len(), 1);
}
