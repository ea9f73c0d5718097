//! Update reports: states move forward (downloading < installing < failed/rolled_back <
//! succeeded), success sets what the device runs, repeated and late reports change nothing,
//! and a release the device's product does not have is 404.

use serde_json::Value;

use crate::device_updates_support::{check_in, content, release_id, report, setup};

fn states(history: &Value) -> Vec<&str> {
    history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|u| u["state"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_move_the_state_and_success_sets_what_runs() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    check_in(&mut device, Some("0.9")).await;
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(64, 8), 100);
    let release = release_id(&pushed);

    for state in ["downloading", "installing"] {
        let answer = report(&mut device, &release, state).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.json()["state"], state);
    }
    let shown = fleet.show("sn-1");
    assert_eq!(shown["status"]["update"]["state"], "installing");
    assert_eq!(shown["status"]["running"][0]["version"], "0.9");

    let done = report(&mut device, &release, "succeeded").await.json();
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["release_id"], release.as_str());
    let shown = fleet.show("sn-1");
    let status = &shown["status"];
    assert_eq!(status["update"]["state"], "succeeded");
    assert_eq!(status["running"][0]["artifact"], "app");
    assert_eq!(status["running"][0]["version"], "1.0");
    assert_eq!(status["running"][0]["sha256"], pushed["binary"]["sha256"]);
    assert_eq!(
        states(&status["history"]),
        ["succeeded", "installing", "downloading"]
    );
    // Done with the release: nothing more is offered, even with an empty check-in list.
    let answer = check_in(&mut device, None).await.json();
    assert!(answer["update"].is_null(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_late_reports_change_nothing() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(64, 9), 100);
    let release = release_id(&pushed);
    report(&mut device, &release, "downloading").await;
    let first = report(&mut device, &release, "failed").await.json();
    let again = report(&mut device, &release, "failed").await;
    assert_eq!(again.status, 200, "a repeated report is fine: {again:?}");
    assert_eq!(again.json(), first, "and answers the same state");
    // A late `installing` after `failed`: history only.
    let late = report(&mut device, &release, "installing").await.json();
    assert_eq!(late["state"], "failed", "{late}");
    let shown = fleet.show("sn-1");
    assert_eq!(shown["status"]["update"]["state"], "failed");
    assert_eq!(
        shown["status"]["update"]["reason"],
        "checksum mismatch after flashing"
    );
    assert_eq!(
        states(&shown["status"]["history"]),
        ["installing", "failed", "downloading"]
    );
    // A failed optional release is not offered again.
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert!(answer["update"].is_null(), "{answer}");
    // A retry that succeeds counts; a failure after it does not undo it.
    report(&mut device, &release, "succeeded").await;
    report(&mut device, &release, "rolled_back").await;
    assert_eq!(fleet.show("sn-1")["status"]["update"]["state"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_of_another_product_is_404() {
    let fleet = setup();
    fleet.cli.run(&["product", "create", "other"]).success();
    fleet
        .cli
        .run(&["cohort", "create", "field", "--product", "other"])
        .success();
    let foreign = fleet.release("other", "field", "1.0", "armv7", &content(10, 10), 100);
    let mut device = fleet.device("sn-1").await;
    let answer = report(&mut device, &release_id(&foreign), "downloading").await;
    assert_eq!(answer.status, 404, "{answer:?}");
    let unknown = report(
        &mut device,
        "rel_0190a1b2c3d4e5f60718293a4b5c6d7e",
        "downloading",
    )
    .await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert!(
        fleet.show("sn-1")["status"]["history"]
            .as_array()
            .expect("history")
            .is_empty()
    );
}
