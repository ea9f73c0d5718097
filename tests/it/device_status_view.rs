//! The operator's view: `fleet device show` prints last seen, address, what runs, update
//! state and history; `fleet device list` filters by online/offline, seen within, running
//! and update state. And two replicas on one deployment: a check-in through one and a report
//! through the other leave one consistent device.

use fleet::server::{DeviceTls, Server, ServerConfig};

use crate::common::device;
use crate::device_updates_support::{check_in, content, release_id, report, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_show_prints_the_field_status() {
    let fleet = setup();
    let mut conn = fleet.device("sn-1").await;
    check_in(&mut conn, Some("0.9")).await;
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(10, 11), 100);
    report(&mut conn, &release_id(&pushed), "failed").await;
    let out = fleet.cli.run(&["device", "show", "sn-1"]).success().stdout;
    for expected in [
        "last seen",
        "(online)",
        "127.0.0.1",
        "app@0.9",
        "failed (checksum mismatch after flashing)",
        "history",
    ] {
        assert!(out.contains(expected), "`{expected}` missing from:\n{out}");
    }
    let never = fleet
        .cli
        .run(&["device", "create", "sn-2", "--product", "sensor"]);
    never.success();
    let out = fleet.cli.run(&["device", "show", "sn-2"]).success().stdout;
    assert!(out.contains("never"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_list_filters_by_what_check_ins_and_reports_said() {
    let fleet = setup();
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(10, 12), 100);
    let release = release_id(&pushed);
    let mut updated = fleet.device("updated").await;
    check_in(&mut updated, Some("0.9")).await;
    report(&mut updated, &release, "succeeded").await;
    let mut failing = fleet.device("failing").await;
    check_in(&mut failing, Some("0.9")).await;
    report(&mut failing, &release, "failed").await;
    fleet
        .cli
        .run(&["device", "create", "silent", "--product", "sensor"])
        .success();

    assert_eq!(fleet.list(&["--online"]), ["failing", "updated"]);
    assert_eq!(fleet.list(&["--offline"]), ["silent"]);
    assert_eq!(fleet.list(&["--seen-within", "1h"]), ["failing", "updated"]);
    assert_eq!(fleet.list(&["--running", "app@1.0"]), ["updated"]);
    assert_eq!(fleet.list(&["--running", "app@0.9"]), ["failing"]);
    assert_eq!(fleet.list(&["--update-state", "failed"]), ["failing"]);
    assert_eq!(
        fleet.list(&["--update-state", "succeeded", "--online"]),
        ["updated"]
    );
    assert!(fleet.list(&["--update-state", "downloading"]).is_empty());
    // Pages of one keep every match across the filter.
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/devices?online=true&limit=1", fleet.server.url);
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: serde_json::Value = client
            .get(&url)
            .bearer_auth(&fleet.server.api_key)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("page");
        for item in page["data"].as_array().expect("data") {
            seen.push(item["identifier"].as_str().expect("identifier").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["failing", "updated"]);

    let refused = fleet.cli.run(&["device", "list", "--running", "app"]);
    let refused = refused.failure(7);
    assert!(refused.stderr.contains("ARTIFACT@VERSION"), "{refused:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_through_one_replica_and_a_report_through_another_agree() {
    let fleet = setup();
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(10, 13), 100);
    let release = release_id(&pushed);

    // Replica B: the same data dir (SQLite file or PostgreSQL schema, same blobs, same
    // self-signed device certificate), its own listeners.
    let mut config = ServerConfig::new(fleet.server.data_dir.path());
    config.database = fleet.server.storage.database.clone();
    config.blob_store = fleet.server.storage.blob_store.clone();
    config.device_tls = Some(DeviceTls::SelfSigned);
    config.part_size_bytes = crate::device_updates_support::PART;
    config.wait_for_check_in_writes = true;
    let (replica, _) = Server::open(config).await.expect("open replica B");
    let fingerprint = replica
        .device_tls_fingerprint()
        .map(str::to_owned)
        .expect("fingerprint");
    assert_eq!(Some(&fingerprint), fleet.server.device_fingerprint.as_ref());
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let devices = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let b_addr = devices.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(replica.serve_with_devices(admin, Some(devices), async {
        let _ = stopped.await;
    }));

    let identity = fleet.ca.issue("sn-1");
    let a_addr = fleet.server.device_addr.expect("device listener");
    let mut via_a = device::connect(a_addr, &fingerprint, Some(&identity))
        .await
        .expect("connect A");
    let offered = check_in(&mut via_a, Some("0.9")).await.json();
    assert_eq!(
        offered["update"]["release_id"],
        release.as_str(),
        "{offered}"
    );

    let mut via_b = device::connect(b_addr, &fingerprint, Some(&identity))
        .await
        .expect("connect B");
    let done = report(&mut via_b, &release, "succeeded").await;
    assert_eq!(done.status, 200, "{done:?}");
    let again = check_in(&mut via_b, Some("1.0")).await.json();
    assert!(again["update"].is_null(), "B sees the success: {again}");
    let late = report(&mut via_a, &release, "installing").await.json();
    assert_eq!(late["state"], "succeeded", "A sees it too: {late}");

    let status = &fleet.show("sn-1")["status"];
    assert_eq!(status["check_ins"], 2);
    assert_eq!(status["update"]["state"], "succeeded");
    assert_eq!(status["running"][0]["version"], "1.0");

    let _ = stop.send(());
    served
        .await
        .expect("replica task")
        .expect("replica B served");
}
