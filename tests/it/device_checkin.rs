//! Check-ins: recorded (last seen, address, count, what runs) without an audit event or a new
//! device revision; oversized or malformed ones refused; answered with the check-in interval.

use serde_json::json;

use crate::device_updates_support::{check_in, post, setup};
use fleet::api::device_api::CHECK_IN_PATH;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_is_recorded_without_an_event_or_a_new_revision() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let first = check_in(&mut device, Some("0.9")).await;
    assert_eq!(first.status, 200, "{first:?}");
    let answer = first.json();
    assert_eq!(answer["identifier"], "sn-1");
    assert_eq!(answer["product"], "sensor");
    assert_eq!(answer["cohort"], "canary");
    assert_eq!(answer["update"], serde_json::Value::Null, "no release yet");
    assert_eq!(answer["next_check_in_s"], 300);
    let before = fleet.show("sn-1");

    let second = check_in(&mut device, Some("1.0")).await;
    assert_eq!(second.status, 200, "{second:?}");
    let shown = fleet.show("sn-1");
    assert_eq!(
        shown["revision"], before["revision"],
        "a check-in is no edit"
    );
    let status = &shown["status"];
    assert_eq!(status["check_ins"], 2);
    assert_eq!(status["last_address"], "127.0.0.1");
    assert_eq!(status["online"], true);
    assert_eq!(status["boot_id"], "boot-1");
    assert_eq!(status["uptime_s"], 42);
    assert_eq!(
        status["running"],
        json!([{ "artifact": "app", "version": "1.0" }])
    );
    assert!(status["last_seen_at"].is_string(), "{status}");

    let events = fleet
        .cli
        .run(&[
            "event",
            "list",
            "--resource",
            shown["id"].as_str().expect("id"),
            "-o",
            "json",
        ])
        .success()
        .json();
    let actions: Vec<&str> = events
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["device.provisioned"], "check-ins add no events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_check_ins_are_refused() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let running: Vec<_> = (0..65)
        .map(|i| json!({ "artifact": format!("a{i}"), "version": "1" }))
        .collect();
    let too_many = post(&mut device, CHECK_IN_PATH, &json!({ "running": running })).await;
    assert_eq!(too_many.status, 422, "{too_many:?}");
    assert_eq!(too_many.json()["fields"][0]["field"], "running");

    let big = json!({ "status": { "log": "x".repeat(17 * 1024) } });
    let answer = post(&mut device, CHECK_IN_PATH, &big).await;
    assert_eq!(answer.status, 422, "{answer:?}");
    let not_object = post(&mut device, CHECK_IN_PATH, &json!({ "status": [1] })).await;
    assert_eq!(not_object.status, 422, "{not_object:?}");

    let shown = fleet.show("sn-1");
    assert_eq!(
        shown["status"]["check_ins"], 0,
        "refused check-ins are not recorded"
    );
    assert_eq!(shown["status"]["last_seen_at"], serde_json::Value::Null);
}
