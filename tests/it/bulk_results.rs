//! What bulk commands print for programs: `-o json` is one result object (counts, refusals,
//! dry-run flag and the devices in `device list`'s shape), `-o id` the affected IDs, `-o
//! ndjson` the affected devices one per line — complete on `--dry-run` too.

use serde_json::Value;

use crate::bulk_support::setup;
use crate::common::cli::Cli;

/// `device` as `device list -o json` prints it.
fn shown(cli: &Cli, device: &str) -> Value {
    let listed = cli
        .run(&["device", "list", "--limit", "1000", "-o", "json"])
        .success()
        .json();
    listed
        .as_array()
        .and_then(|all| all.iter().find(|d| d["identifier"] == device))
        .cloned()
        .unwrap_or(Value::Null)
}

fn count(value: &Value) -> usize {
    value.as_array().map_or(usize::MAX, Vec::len)
}

#[test]
fn a_move_prints_one_result_object_with_counts_and_devices_as_the_list_shows_them() {
    let (_server, cli) = setup(3);
    cli.run(&["device", "move", "sn-000002", "--to-product", "p2", "--yes"])
        .success();
    let result = cli
        .run(&[
            "device",
            "move",
            "sn-000000",
            "sn-000001",
            "sn-000002",
            "--to-product",
            "p2",
            "--yes",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(result["dry_run"], false, "{result}");
    assert_eq!(result["matched"], 3, "{result}");
    assert_eq!(result["changed"], 2, "{result}");
    assert_eq!(result["unchanged"], 1, "{result}");
    assert_eq!(result["refused"], 0, "{result}");
    assert_eq!(result["refusals"], Value::Array(vec![]), "{result}");
    assert_eq!(count(&result["devices"]), 2, "{result}");
    // Field for field what `device show` (and `device list`) print now.
    assert_eq!(result["devices"][0], shown(&cli, "sn-000000"));
    assert_eq!(result["devices"][1], shown(&cli, "sn-000001"));
}

#[test]
fn a_dry_run_lists_every_device_and_every_refusal_for_programs() {
    let (_server, cli) = setup(30);
    let before = shown(&cli, "sn-000007");
    let plan = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--dry-run",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(plan["matched"], 30, "{plan}");
    assert_eq!(plan["changed"], 30, "{plan}");
    assert_eq!(count(&plan["devices"]), 30, "all, not a sample of 20");
    // As the device would be: in p2, to be provisioned again; nothing changed yet.
    let planned = &plan["devices"][7];
    assert_eq!(planned["identifier"], "sn-000007");
    assert_eq!(planned["product"], "p2");
    assert_eq!(planned["needs_provisioning"], true);
    assert_eq!(planned["created_at"], before["created_at"]);
    assert_eq!(
        shown(&cli, "sn-000007"),
        before,
        "a dry run changes nothing"
    );

    let ids = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--dry-run",
            "-o",
            "id",
        ])
        .success();
    assert_eq!(ids.lines().len(), 30, "{ids:#?}");
    assert_eq!(ids.lines()[7], before["id"].as_str().unwrap_or("?"));

    let ghosts: Vec<String> = (0..25).map(|n| format!("ghost-{n:02}")).collect();
    let mut argv = vec!["cohort", "assign", "a", "--product", "p1", "sn-000001"];
    argv.extend(ghosts.iter().map(String::as_str));
    argv.extend(["--dry-run", "-o", "json"]);
    let plan = cli.run(&argv).success().json();
    assert_eq!(plan["refused"], 25, "{plan}");
    assert_eq!(count(&plan["refusals"]), 25, "every refusal: {plan}");
    assert_eq!(plan["refusals"][24]["device"], "ghost-24");
    assert_eq!(plan["refusals"][24]["reason"], "no such device");
    assert_eq!(plan["matched"], 1, "{plan}");
    assert_eq!(plan["devices"][0]["cohort"], "a");
}

#[test]
fn refusals_name_the_device_and_the_reason() {
    let (_server, cli) = setup(2);
    cli.run(&["device", "move", "sn-000001", "--to-product", "p2", "--yes"])
        .success();
    let plan = cli
        .run(&[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "sn-000000",
            "sn-000001",
            "--dry-run",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(plan["refused"], 1, "{plan}");
    assert_eq!(
        plan["refusals"],
        serde_json::json!([{"device": "sn-000001", "reason": "in product `p2`, not `p1`"}])
    );
    assert_eq!(plan["matched"], 2, "{plan}");
    assert_eq!(plan["changed"], 1, "{plan}");
    assert_eq!(plan["unchanged"], 0, "{plan}");
    assert_eq!(count(&plan["devices"]), 1, "only what would change: {plan}");
    assert_eq!(plan["devices"][0]["identifier"], "sn-000000");
}

#[test]
fn id_output_is_the_changed_devices_ids_one_per_line() {
    let (_server, cli) = setup(4);
    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "sn-000003",
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
            "sn-000000",
            "sn-000001",
            "sn-000002",
            "sn-000003",
            "--yes",
            "-o",
            "id",
        ])
        .success();
    let expected: Vec<String> = (0..3)
        .map(|n| {
            shown(&cli, &format!("sn-{n:06}"))["id"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect();
    assert_eq!(run.lines(), expected, "{run:#?}");
    assert!(run.stderr.contains("(1 device already in it)"), "{run:#?}");
}

#[test]
fn ndjson_prints_each_changed_device_as_the_list_does() {
    let (_server, cli) = setup(2);
    let run = cli
        .run(&[
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "--no-cohort",
            "--yes",
            "-o",
            "ndjson",
        ])
        .success();
    let lines: Vec<Value> = run
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("ndjson"))
        .collect();
    assert_eq!(lines, [shown(&cli, "sn-000000"), shown(&cli, "sn-000001")]);
}

#[test]
fn an_import_prints_the_result_object_with_created_devices() {
    let (_server, cli) = setup(0);
    let csv = cli.config_dir().join("devices.csv");
    let rows: String = (0..25)
        .map(|n| format!("imp-{n:02},,site:x,armv7\n"))
        .collect();
    std::fs::write(&csv, format!("identifier,description,tags,target\n{rows}")).expect("csv");
    let csv = csv.to_str().expect("utf-8");
    let plan = cli
        .run(&[
            "device",
            "import",
            csv,
            "--product",
            "p1",
            "--dry-run",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(plan["created"], 25, "{plan}");
    assert_eq!(count(&plan["devices"]), 25, "all, not a sample of 20");
    assert_eq!(plan["devices"][24]["identifier"], "imp-24");
    assert_eq!(plan["devices"][24]["tags"], serde_json::json!(["site:x"]));

    let result = cli
        .run(&[
            "device",
            "import",
            csv,
            "--product",
            "p1",
            "--yes",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(result["dry_run"], false, "{result}");
    assert_eq!(result["matched"], 25, "{result}");
    assert_eq!(result["created"], 25, "{result}");
    assert_eq!(result["changed"], 25, "{result}");
    assert_eq!(count(&result["devices"]), 25, "{result}");
    assert_eq!(result["devices"][24], shown(&cli, "imp-24"));

    let again = cli
        .run(&[
            "device",
            "import",
            csv,
            "--product",
            "p1",
            "--yes",
            "-o",
            "id",
        ])
        .success();
    assert!(again.stdout.is_empty(), "nothing changed: {again:#?}");
}
