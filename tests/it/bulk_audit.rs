//! The audit trail of bulk operations: one event per operation (per product), and every
//! changed device's history still finds it, with the device's own facts.

use serde_json::Value;

use crate::bulk_support::{device_events, event_count, setup};
use crate::common::cli::Cli;

fn events(cli: &Cli, action: &str) -> Vec<Value> {
    cli.run(&["event", "list", "--action", action, "-o", "json"])
        .success()
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_bulk_move_is_one_event_and_each_devices_history_finds_it() {
    let (server, cli) = setup(30);
    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "sn-000017",
        "--yes",
    ])
    .success();
    cli.run(&[
        "device",
        "move",
        "--product",
        "p1",
        "--to-product",
        "p2",
        "--yes",
    ])
    .success();
    let moved = events(&cli, "device.moved");
    assert_eq!(moved.len(), 1, "one event for the operation: {moved:?}");
    assert_eq!(moved[0]["details"]["devices"], 30);
    assert_eq!(moved[0]["details"]["to_product"], "p2");
    assert_eq!(
        event_count(&server, "device.moved"),
        30,
        "every device indexed"
    );

    let history = device_events(&cli, "sn-000017", "device.moved");
    assert_eq!(history.len(), 1, "{history:?}");
    let event = &history[0];
    assert_eq!(event["id"], moved[0]["id"]);
    assert_eq!(event["details"]["identifier"], "sn-000017");
    assert_eq!(event["details"]["from_product"], "p1");
    let cohort = cli
        .run(&["cohort", "show", "a", "--product", "p1", "-o", "id"])
        .success()
        .stdout;
    assert_eq!(event["details"]["from_cohort_id"], cohort.trim());
    // The device's whole history: created (seeded, so none), assigned, moved.
    let id = cli
        .run(&["device", "show", "sn-000017", "-o", "id"])
        .success()
        .stdout;
    let all = cli
        .run(&["event", "list", "--resource", id.trim(), "-o", "json"])
        .success()
        .json();
    let actions: Vec<&str> = all
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["device.cohort_assigned", "device.moved"], "{all}");
}

#[test]
fn an_import_is_one_event_and_each_device_finds_its_line() {
    let (_server, cli) = setup(0);
    let csv = cli.config_dir().join("devices.csv");
    let rows: String = (0..5).map(|n| format!("imp-{n}\n")).collect();
    std::fs::write(&csv, format!("identifier\n{rows}")).expect("csv");
    let csv = csv.to_str().expect("utf-8");
    cli.run(&["device", "import", csv, "--product", "p1", "--yes"])
        .success();
    let created = events(&cli, "device.created");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["details"]["devices"], 5);
    assert_eq!(created[0]["details"]["via"], "import");
    let history = device_events(&cli, "imp-3", "device.created");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["details"]["identifier"], "imp-3");
    assert_eq!(history[0]["details"]["line"], 5);
}
