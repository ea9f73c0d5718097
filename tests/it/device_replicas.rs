//! Two replicas with device listeners on one deployment: a change made through one replica
//! (a device moved, a certificate revoked) is refused by the other on its open connections,
//! and a refusal is recorded once whichever replicas it reaches.

use fleet::api::device_api::PING_PATH;

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_is_refused_by_the_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = device::start_replica(dir.path()).await;
    let b = device::start_replica(dir.path()).await;
    assert_eq!(
        a.fingerprint, b.fingerprint,
        "one self-signed certificate per data dir"
    );
    let key = a.api_key.clone().expect("the first replica bootstraps");
    let storage = backend::storage(dir.path());
    let cli = Cli::with_profile(&a.url, &key);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["product", "create", "gateway"]).success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &storage,
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            ..Jitp::default()
        },
    );
    let moving = ca.issue("sn-moving");
    let revoked = ca.issue("sn-revoked");
    let mut open_on_b = Vec::new();
    for identity in [&moving, &revoked] {
        let mut conn = device::connect(b.device_addr, &b.fingerprint, Some(identity))
            .await
            .expect("connect");
        assert_eq!(conn.get(PING_PATH).await.expect("ping").status, 204);
        open_on_b.push(conn);
    }
    let mut on_a = device::connect(a.device_addr, &a.fingerprint, Some(&revoked))
        .await
        .expect("connect");
    assert_eq!(on_a.get(PING_PATH).await.expect("ping").status, 204);

    // Through replica A's admin API: the device moves.
    Cli::with_profile(&a.url, &key)
        .run(&[
            "device",
            "move",
            "sn-moving",
            "--to-product",
            "gateway",
            "--yes",
        ])
        .success();
    let answer = open_on_b[0].get(PING_PATH).await.expect("answer");
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        answer.body.contains("device in another product"),
        "{answer:?}"
    );

    // Behind both replicas' backs: the other certificate is revoked.
    backend::execute(
        &storage,
        &format!(
            "UPDATE device_certificates SET revoked_at = '2020-01-01T00:00:00Z' \
             WHERE fingerprint = '{}'",
            revoked.fingerprint
        ),
    );
    for answer in [
        open_on_b[1].get(PING_PATH).await.expect("answer"),
        on_a.get(PING_PATH).await.expect("answer"),
    ] {
        assert_eq!(answer.status, 401, "{answer:?}");
        assert!(answer.body.contains("revoked"), "{answer:?}");
    }
    let events = cli
        .run(&["event", "list", "--action", "device.refused", "-o", "json"])
        .success()
        .json();
    let revocations: Vec<_> = events
        .as_array()
        .expect("array")
        .iter()
        .filter(|event| event["details"]["reason"] == "revoked")
        .collect();
    assert_eq!(
        revocations.len(),
        1,
        "refused on both replicas, recorded once: {revocations:?}"
    );
}
