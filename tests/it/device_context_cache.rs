//! A replica answers check-ins from the device contexts it cached under the offers epoch; every
//! change an operator or the device itself makes must still reach the device's very next
//! check-in on the same connection (the context was cached by the check-in before it).

use crate::device_updates_support::{check_in, content, release_id, report, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_reaches_the_next_check_in_of_a_device_whose_context_was_cached() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert!(answer["update"].is_null(), "{answer}");
    // Twice: the second is answered from the cache.
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert_eq!(answer["cohort"], "canary", "{answer}");

    // A release to its cohort.
    let first = fleet.release("sensor", "canary", "1.0", "armv7", &content(100, 1), 100);
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert_eq!(
        answer["update"]["release_id"],
        release_id(&first),
        "{answer}"
    );

    // The device's own report: done with it, nothing offered.
    let answer = report(&mut device, &release_id(&first), "succeeded").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let answer = check_in(&mut device, Some("0.9")).await.json();
    assert!(answer["update"].is_null(), "succeeded: {answer}");

    // A newer release, then halted before the device started it.
    let second = fleet.release("sensor", "canary", "1.1", "armv7", &content(100, 2), 100);
    let answer = check_in(&mut device, Some("1.0")).await.json();
    assert_eq!(
        answer["update"]["release_id"],
        release_id(&second),
        "{answer}"
    );
    fleet
        .cli
        .run(&["release", "halt", &release_id(&second), "-P", "sensor"])
        .success();
    let answer = check_in(&mut device, Some("1.0")).await.json();
    assert!(answer["update"].is_null(), "halted: {answer}");

    // Renames show in the answer.
    fleet
        .cli
        .run(&[
            "cohort", "update", "canary", "-P", "sensor", "--name", "early",
        ])
        .success();
    let answer = check_in(&mut device, Some("1.0")).await.json();
    assert_eq!(answer["cohort"], "early", "{answer}");
    fleet
        .cli
        .run(&["product", "update", "sensor", "--name", "meter"])
        .success();
    let answer = check_in(&mut device, Some("1.0")).await.json();
    assert_eq!(answer["product"], "meter", "{answer}");

    // A configuration for the device's product.
    fleet
        .cli
        .run(&["config", "set", "-P", "meter", "log=debug"])
        .success();
    let answer = check_in(&mut device, Some("1.0")).await.json();
    assert_eq!(
        answer["config"]["document"],
        serde_json::json!({"log": "debug"}),
        "{answer}"
    );
}
