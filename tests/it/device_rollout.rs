//! Which devices are offered an update: the cohort's current release at its rollout, the
//! binaries for the device's target, nothing for quarantined, cohort-less, other-target or
//! already updated devices, `required` passed through. (The 10% of 10,000 devices and the
//! monotonic rollout are shown on the resolution itself, in `domain::device_updates::offer`.)

use crate::device_updates_support::{check_in, content, release_id, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_release_is_offered_with_its_binaries_for_the_devices_target() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    check_in(&mut device, Some("0.9")).await;
    let bytes = content(3000, 1);
    let arm = fleet.release("sensor", "canary", "1.0", "armv7", &bytes, 100);
    let x86 = fleet.release("sensor", "canary", "1.0", "x86_64", &content(10, 2), 100);
    // One bundle with both targets, released last: the cohort's current release.
    let binary =
        |pushed: &serde_json::Value| pushed["binary"]["id"].as_str().expect("id").to_owned();
    let bundle = fleet
        .cli
        .run(&[
            "bundle",
            "create",
            "both",
            "-P",
            "sensor",
            "-b",
            &binary(&x86),
            "-b",
            &binary(&arm),
            "-o",
            "json",
        ])
        .success()
        .json();
    let pushed = fleet
        .cli
        .run(&[
            "release",
            "create",
            "-P",
            "sensor",
            "--cohort",
            "canary",
            "--bundle",
            bundle["id"].as_str().expect("id"),
            "-o",
            "json",
        ])
        .success()
        .json();
    let pushed = serde_json::json!({ "release": pushed, "binary": arm["binary"] });
    let answer = check_in(&mut device, Some("0.9")).await.json();
    let update = &answer["update"];
    assert_eq!(update["release_id"], pushed["release"]["id"], "{answer}");
    assert_eq!(update["required"], false);
    let binaries = update["binaries"].as_array().expect("binaries");
    assert_eq!(binaries.len(), 1, "only armv7: {update}");
    let binary = &binaries[0];
    assert_eq!(binary["target"], "armv7");
    assert_eq!(binary["artifact"], "app");
    assert_eq!(binary["version"], "1.0");
    assert_eq!(binary["size"], 3000);
    assert_eq!(binary["sha256"], pushed["binary"]["sha256"]);
    assert_eq!(
        binary["url"],
        format!(
            "/v1/device/binaries/{}",
            binary["binary_id"].as_str().expect("id")
        )
    );

    fleet
        .cli
        .run(&[
            "release",
            "update",
            &release_id(&pushed),
            "-P",
            "sensor",
            "--required",
            "true",
        ])
        .success();
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert_eq!(answer["update"]["required"], true, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantined_cohortless_other_target_and_updated_devices_get_nothing() {
    let fleet = setup();
    let mut devices = Vec::new();
    for name in [
        "quarantined",
        "cohortless",
        "other-target",
        "updated",
        "plain",
    ] {
        let mut conn = fleet.device(name).await;
        check_in(&mut conn, Some("0.9")).await;
        devices.push((name, conn));
    }
    fleet.release("sensor", "canary", "1.0", "armv7", &content(100, 3), 100);
    fleet
        .cli
        .run(&["device", "update", "quarantined", "--quarantine"])
        .success();
    fleet
        .cli
        .run(&["device", "update", "cohortless", "--no-cohort"])
        .success();
    fleet
        .cli
        .run(&["device", "update", "other-target", "--target", "riscv64"])
        .success();
    for (name, conn) in &mut devices {
        let running = if *name == "updated" { "1.0" } else { "0.9" };
        let answer = check_in(conn, Some(running)).await.json();
        let offered = !answer["update"].is_null();
        assert_eq!(offered, *name == "plain", "{name}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_percent_rollout_offers_nothing_and_a_full_one_everything() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(100, 4), 0);
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert!(answer["update"].is_null(), "{answer}");
    fleet
        .cli
        .run(&[
            "release",
            "update",
            &release_id(&pushed),
            "-P",
            "sensor",
            "--rollout",
            "100",
        ])
        .success();
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert_eq!(answer["update"]["release_id"], pushed["release"]["id"]);
}
