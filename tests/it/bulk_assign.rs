//! `fleet cohort assign` / `unassign`: every selected device must be in the cohort's product,
//! devices already in place are fine, events are recorded, `--from-file` takes NDJSON.

use crate::bulk_support::{device_events, devices, event_count, rows, setup};

#[test]
fn assign_refuses_devices_of_another_product_and_assigns_none() {
    let (server, cli) = setup(3);
    cli.run(&["device", "create", "gw-1", "--product", "p2"])
        .success();
    let before = devices(&server);
    let run = cli
        .run(&[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "sn-000000",
            "gw-1",
            "sn-000001",
            "--yes",
        ])
        .failure(7);
    assert!(
        run.stderr.contains("not in product `p1`: `gw-1`"),
        "{run:#?}"
    );
    assert_eq!(devices(&server), before);
    assert_eq!(event_count(&server, "device.cohort_assigned"), 0);

    let run = cli
        .run(&[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "sn-000000",
            "gw-1",
            "--dry-run",
        ])
        .success();
    assert!(
        run.stderr.contains("`gw-1`: in product `p2`, not `p1`"),
        "{run:#?}"
    );
}

#[test]
fn assign_filters_within_the_product_and_already_assigned_devices_are_fine() {
    let (server, cli) = setup(4);
    // A device of another product with the same tag is outside the selection, not a refusal.
    cli.run(&[
        "device",
        "create",
        "gw-1",
        "--product",
        "p2",
        "--tag",
        "site:x",
    ])
    .success();
    for device in ["sn-000000", "sn-000001"] {
        cli.run(&["device", "update", device, "--add-tag", "site:x"])
            .success();
    }
    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "sn-000000",
        "--yes",
    ])
    .success();
    let run = cli
        .run(&[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "--tag",
            "site:x",
            "--yes",
            "-o",
            "id",
        ])
        .success();
    assert!(
        run.stderr
            .contains("assigned 1 device to cohort `a` (1 device already in it)"),
        "{run:#?}"
    );
    assert_eq!(run.lines().len(), 1, "only the changed device is printed");
    let cohort = cli
        .run(&["cohort", "show", "a", "--product", "p1", "-o", "json"])
        .success()
        .json();
    assert_eq!(cohort["device_count"], 2);
    assert_eq!(event_count(&server, "device.cohort_assigned"), 2);
    let cohort_id = cli
        .run(&["cohort", "show", "a", "--product", "p1", "-o", "id"])
        .success()
        .stdout;
    let history = device_events(&cli, "sn-000000", "device.cohort_assigned");
    assert_eq!(history.len(), 1, "{history:?}");
    let first = &history[0]["details"];
    assert_eq!(first["identifier"], "sn-000000");
    assert_eq!(first["from_cohort_id"], serde_json::Value::Null);
    assert_eq!(first["to_cohort_id"], cohort_id.trim());

    let run = cli
        .run(&[
            "cohort",
            "unassign",
            "--product",
            "p1",
            "--cohort",
            "a",
            "--yes",
        ])
        .success();
    assert!(
        run.stderr.contains("took 2 devices out of their cohorts"),
        "{run:#?}"
    );
    assert_eq!(event_count(&server, "device.cohort_unassigned"), 2);
    let history = device_events(&cli, "sn-000000", "device.cohort_unassigned");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["details"]["from_cohort_id"], cohort_id.trim());
    let cohort = cli
        .run(&["cohort", "show", "a", "--product", "p1", "-o", "json"])
        .success()
        .json();
    assert_eq!(cohort["device_count"], 0);
}

#[test]
fn from_file_takes_ndjson_from_device_list() {
    let (server, cli) = setup(6);
    let listed = cli
        .run(&["device", "list", "--product", "p1", "-o", "ndjson"])
        .success();
    // What `jq -c 'select(…)'` would pass on: a subset of the objects.
    let picked: String = listed
        .lines()
        .into_iter()
        .filter(|line| line.contains("sn-000001") || line.contains("sn-000004"))
        .map(|line| format!("{line}\n"))
        .collect();
    let run = cli.run_with_stdin(
        &[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "--from-file",
            "-",
            "--yes",
            "-o",
            "ndjson",
        ],
        &picked,
    );
    let run = run.success();
    let assigned: Vec<String> = run
        .lines()
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("ndjson")["identifier"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(assigned, ["sn-000001", "sn-000004"]);
    let in_cohort = rows(
        &server,
        "SELECT identifier FROM device_records WHERE cohort_id IS NOT NULL ORDER BY identifier",
    );
    assert_eq!(in_cohort.len(), 2);

    let run = cli.run_with_stdin(
        &["cohort", "unassign", "--from-file", "-", "--yes"],
        "{\"name\": \"sn-000001\"}\n",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("stdin, line 1"), "{run:#?}");
}

#[test]
fn names_and_filters_together_or_no_selection_are_usage_errors() {
    let (_server, cli) = setup(1);
    cli.run(&[
        "cohort",
        "unassign",
        "sn-000000",
        "--tag",
        "site:x",
        "--yes",
    ])
    .failure(2);
    cli.run(&["cohort", "unassign", "--yes"]).failure(2);
    cli.run(&["device", "move", "--to-product", "p2", "--yes"])
        .failure(2);
}
