//! `fleet config override`: the same keys in many devices' overrides, with the bulk rules —
//! the same selection flags, a dry run that changes nothing, `--yes` off a terminal, one
//! transaction (a schema refusal or an injected failure leaves every override as it was), one
//! audit event that each device's history still finds, and secrets masked in it.

use serde_json::{Value, json};

use crate::common::cli::Cli;
use crate::common::server::TestServer;

/// Product `sensor` with cohort `beta`; devices sn-1..sn-4, sn-1 and sn-2 tagged
/// `site:berlin`, sn-3 in `beta`; product `other` with device ot-1.
fn seeded(server: &TestServer) -> Cli {
    let cli = Cli::against(server);
    for args in [
        &["product", "create", "sensor"][..],
        &["product", "create", "other"],
        &["cohort", "create", "beta", "--product", "sensor"],
        &[
            "device",
            "create",
            "sn-1",
            "-P",
            "sensor",
            "--tag",
            "site:berlin",
        ],
        &[
            "device",
            "create",
            "sn-2",
            "-P",
            "sensor",
            "--tag",
            "site:berlin",
        ],
        &[
            "device", "create", "sn-3", "-P", "sensor", "--cohort", "beta",
        ],
        &["device", "create", "sn-4", "-P", "sensor"],
        &["device", "create", "ot-1", "-P", "other"],
    ] {
        cli.run(args).success();
    }
    cli
}

/// A device's own override document (`{}` when it has none).
fn own(cli: &Cli, device: &str) -> Value {
    cli.run(&["config", "show", "--device", device, "-o", "json"])
        .success()
        .json()["document"]
        .clone()
}

fn effective(cli: &Cli, device: &str) -> Value {
    cli.run(&[
        "config",
        "show",
        "--device",
        device,
        "--effective",
        "-o",
        "json",
    ])
    .success()
    .json()["document"]
        .clone()
}

fn revision(cli: &Cli, device: &str) -> i64 {
    cli.run(&["config", "show", "--device", device, "-o", "json"])
        .success()
        .json()["revision"]
        .as_i64()
        .unwrap_or(-1)
}

#[test]
fn a_filter_selection_sets_keys_in_each_override_and_merges_over_the_product() {
    let server = TestServer::start();
    let cli = seeded(&server);
    cli.run(&["config", "set", "-P", "sensor", "log.level=info", "rate=10"])
        .success();
    cli.run(&["config", "set", "--device", "sn-2", "rate=20"])
        .success();
    let result = cli
        .run(&[
            "config",
            "override",
            "-P",
            "sensor",
            "--set",
            "log.level=debug",
            "--tag",
            "site:berlin",
            "-m",
            "debug berlin",
            "--yes",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        (&result["matched"], &result["changed"], &result["unchanged"]),
        (&json!(2), &json!(2), &json!(0)),
        "{result}"
    );
    let listed: Vec<&str> = result["devices"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["identifier"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(listed, ["sn-1", "sn-2"], "{result}");
    assert_eq!(own(&cli, "sn-1"), json!({"log": {"level": "debug"}}));
    // sn-2's own key stays beside the new one; its override is a new revision.
    assert_eq!(
        own(&cli, "sn-2"),
        json!({"rate": 20, "log": {"level": "debug"}})
    );
    assert_eq!(revision(&cli, "sn-2"), 2);
    assert_eq!(
        effective(&cli, "sn-1"),
        json!({"log": {"level": "debug"}, "rate": 10})
    );
    // Devices outside the selection keep no override.
    assert_eq!(own(&cli, "sn-4"), json!({}));
    assert_eq!(effective(&cli, "sn-4")["log"]["level"], "info");
    let history = cli
        .run(&["config", "history", "--device", "sn-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(history[0]["message"], "debug berlin", "{history}");

    // Again: every override already reads so, nothing changes.
    let again = cli
        .run(&[
            "config",
            "override",
            "-P",
            "sensor",
            "--set",
            "log.level=debug",
            "--tag",
            "site:berlin",
            "--yes",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        (&again["changed"], &again["unchanged"]),
        (&json!(0), &json!(2))
    );
    assert_eq!(revision(&cli, "sn-2"), 2);

    // --unset takes the key out again; sn-2 keeps its own rate.
    cli.run(&[
        "config",
        "override",
        "-P",
        "sensor",
        "--unset",
        "log.level",
        "--tag",
        "site:berlin",
        "--yes",
    ])
    .success();
    assert_eq!(own(&cli, "sn-2"), json!({"rate": 20}));
    assert_eq!(effective(&cli, "sn-1")["log"]["level"], "info");
}

#[test]
fn a_dry_run_changes_nothing_and_a_prompt_needs_yes_off_a_terminal() {
    let server = TestServer::start();
    let cli = seeded(&server);
    let plan = cli
        .run(&[
            "config",
            "override",
            "-P",
            "sensor",
            "--set",
            "rate=5",
            "sn-1",
            "sn-3",
            "--dry-run",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!((&plan["matched"], &plan["changed"]), (&json!(2), &json!(2)));
    assert_eq!(own(&cli, "sn-1"), json!({}));
    let refused = cli
        .run(&[
            "config", "override", "-P", "sensor", "--set", "rate=5", "sn-1",
        ])
        .failure(3);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(own(&cli, "sn-1"), json!({}));
}

#[test]
fn devices_of_another_product_or_unknown_ones_refuse_the_whole_operation() {
    let server = TestServer::start();
    let cli = seeded(&server);
    let refused = cli
        .run(&[
            "config", "override", "-P", "sensor", "--set", "rate=5", "sn-1", "ot-1", "--yes",
        ])
        .failure(7);
    assert!(refused.stderr.contains("`ot-1`"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing was configured"),
        "{}",
        refused.stderr
    );
    let missing = cli
        .run(&[
            "config", "override", "-P", "sensor", "--set", "rate=5", "sn-1", "sn-404", "--yes",
        ])
        .failure(7);
    assert!(missing.stderr.contains("`sn-404`"), "{}", missing.stderr);
    assert_eq!(own(&cli, "sn-1"), json!({}));
    let plan = cli
        .run(&[
            "config",
            "override",
            "-P",
            "sensor",
            "--set",
            "rate=5",
            "sn-1",
            "ot-1",
            "--dry-run",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(plan["refused"], 1, "{plan}");
    assert_eq!(plan["refusals"][0]["device"], "ot-1", "{plan}");
}

#[test]
fn a_schema_refusal_writes_no_override() {
    let server = TestServer::start();
    let cli = seeded(&server);
    let schema =
        r#"{"type": "object", "properties": {"rate": {"type": "integer", "maximum": 100}}}"#;
    cli.run_with_stdin(
        &["config", "schema", "set", "-P", "sensor", "--file", "-"],
        schema,
    )
    .success();
    cli.run(&["config", "set", "-P", "sensor", "rate=10"])
        .success();
    let refused = cli
        .run(&[
            "config", "override", "-P", "sensor", "--set", "rate=500", "--cohort", "beta", "--yes",
        ])
        .failure(7);
    assert!(refused.stderr.contains("config.rate"), "{}", refused.stderr);
    assert_eq!(own(&cli, "sn-3"), json!({}));
    assert_eq!(revision(&cli, "sn-3"), 0);
}

#[test]
fn a_failure_inside_the_transaction_leaves_every_override_as_it_was() {
    let server = TestServer::start_with(|config| config.fail_bulk_after_rows = Some(2));
    let cli = seeded(&server);
    cli.run(&[
        "config",
        "override",
        "-P",
        "sensor",
        "--set",
        "rate=5",
        "--no-cohort",
        "--yes",
    ])
    .failure(8);
    for device in ["sn-1", "sn-2", "sn-4"] {
        assert_eq!(own(&cli, device), json!({}), "{device}");
        assert_eq!(revision(&cli, device), 0, "{device}");
    }
    let events = cli
        .run(&["event", "list", "--action", "config.updated", "-o", "json"])
        .success()
        .json();
    assert_eq!(events, json!([]), "no event of a change that was not made");
}

#[test]
fn one_event_records_the_operation_and_each_device_history_finds_it_with_secrets_masked() {
    let server = TestServer::start();
    let cli = seeded(&server);
    cli.run(&[
        "config",
        "set",
        "-P",
        "sensor",
        "--secret",
        "net.token=base",
    ])
    .success();
    cli.run(&[
        "config",
        "override",
        "-P",
        "sensor",
        "--set",
        "net.token=per-device",
        "--set",
        "rate=7",
        "--tag",
        "site:berlin",
        "--yes",
    ])
    .success();
    let events = cli
        .run(&["event", "list", "--action", "config.updated", "-o", "json"])
        .success();
    assert!(!events.stdout.contains("per-device"), "{}", events.stdout);
    let events = events.json();
    let bulk: Vec<&Value> = events
        .as_array()
        .map(|e| e.iter().filter(|e| e["details"]["devices"] == 2).collect())
        .unwrap_or_default();
    assert_eq!(bulk.len(), 1, "one event for the operation: {events}");
    assert_eq!(bulk[0]["details"]["set"]["net.token"], "***", "{events}");
    assert_eq!(bulk[0]["details"]["set"]["rate"], 7, "{events}");
    let id = cli
        .run(&["device", "show", "sn-2", "-o", "id"])
        .success()
        .stdout;
    let history = cli
        .run(&["event", "list", "--resource", id.trim(), "-o", "json"])
        .success()
        .json();
    let found = history
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["action"] == "config.updated"));
    assert!(found, "{history}");
    // The device gets the secret; people do not see it.
    assert_eq!(own(&cli, "sn-1")["net"]["token"], "***");
}

#[test]
fn a_moved_device_starts_from_its_new_products_configuration_with_its_history_kept() {
    let server = TestServer::start();
    let cli = seeded(&server);
    cli.run(&["config", "set", "-P", "other", "rate=1"])
        .success();
    cli.run(&["config", "set", "--device", "sn-1", "rate=99", "log=debug"])
        .success();
    cli.run(&[
        "device",
        "move",
        "sn-1",
        "sn-4",
        "--to-product",
        "other",
        "--yes",
    ])
    .success();
    assert_eq!(own(&cli, "sn-1"), json!({}));
    assert_eq!(revision(&cli, "sn-1"), 2, "emptied as a new revision");
    assert_eq!(effective(&cli, "sn-1"), json!({"rate": 1}));
    let history = cli
        .run(&["config", "history", "--device", "sn-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(
        history[1]["document"],
        json!({"rate": 99, "log": "debug"}),
        "{history}"
    );
    // A device without an override gets none.
    assert_eq!(revision(&cli, "sn-4"), 0);
}

/// Every configuration alone satisfies the schema, but not every merge: with `boost`, `rate`
/// may be at most 2, and only cohort `beta` lowers it.
fn boosted(cli: &Cli) {
    let schema = r#"{"type": "object", "if": {"required": ["boost"]}, "then": {"properties": {"rate": {"maximum": 2}}}}"#;
    cli.run_with_stdin(
        &["config", "schema", "set", "-P", "sensor", "--file", "-"],
        schema,
    )
    .success();
    cli.run(&["config", "set", "-P", "sensor", "rate=5"])
        .success();
    cli.run(&[
        "config", "set", "-P", "sensor", "--cohort", "beta", "rate=1",
    ])
    .success();
    cli.run(&["config", "set", "--device", "sn-3", "boost=true"])
        .success();
}

fn cohort_of(cli: &Cli, device: &str) -> Value {
    cli.run(&["device", "show", device, "-o", "json"])
        .success()
        .json()["cohort"]
        .clone()
}

#[test]
fn a_cohort_change_that_breaks_a_devices_effective_configuration_is_refused() {
    let server = TestServer::start();
    let cli = seeded(&server);
    boosted(&cli);
    // Out of `beta`, sn-3's override would meet the product's rate of 5.
    let refused = cli.run(&["cohort", "unassign", "sn-3", "--yes"]).failure(7);
    assert!(refused.stderr.contains("config.rate"), "{}", refused.stderr);
    assert_eq!(cohort_of(&cli, "sn-3"), "beta");
    // Devices without an override move freely; sn-4 gets one that is fine only in beta.
    cli.run(&["cohort", "assign", "beta", "-P", "sensor", "sn-4", "--yes"])
        .success();
    cli.run(&["cohort", "unassign", "sn-4", "--yes"]).success();
    cli.run(&["config", "set", "--device", "sn-4", "boost=true", "rate=2"])
        .success();
    cli.run(&["cohort", "assign", "beta", "-P", "sensor", "sn-4", "--yes"])
        .success();
    assert_eq!(cohort_of(&cli, "sn-4"), "beta");
    // And the other way: a second cohort that raises the rate cannot take sn-3.
    cli.run(&["cohort", "create", "fast", "-P", "sensor"])
        .success();
    cli.run(&[
        "config", "set", "-P", "sensor", "--cohort", "fast", "rate=9",
    ])
    .success();
    let refused = cli
        .run(&["cohort", "assign", "fast", "-P", "sensor", "sn-3", "--yes"])
        .failure(7);
    assert!(refused.stderr.contains("config.rate"), "{}", refused.stderr);
    assert_eq!(cohort_of(&cli, "sn-3"), "beta");
    let plan = cli
        .run(&[
            "cohort",
            "assign",
            "fast",
            "-P",
            "sensor",
            "sn-3",
            "--dry-run",
        ])
        .failure(7);
    assert!(plan.stderr.contains("config.rate"), "{}", plan.stderr);
}
