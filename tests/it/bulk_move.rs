//! `fleet device move`: all-or-nothing moves between products, refusals, re-provisioning and
//! audit events, dry runs and confirmations.

use serde_json::Value;

use crate::bulk_support::{device_events, devices, event_count, rows, seeded, setup, setup_with};
use crate::common::server::TestServer;

fn args<'a>(names: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["device", "move"];
    all.extend(names.iter().map(String::as_str));
    all.extend_from_slice(rest);
    all
}

#[test]
fn moving_ten_where_one_is_missing_exits_7_lists_it_and_moves_none() {
    let (server, cli) = setup(9);
    let before = devices(&server);
    let mut names = seeded(0..9);
    names.insert(4, "sn-ghost".to_owned());
    assert_eq!(names.len(), 10);
    let run = cli
        .run(&args(&names, &["--to-product", "p2", "--yes"]))
        .failure(7);
    assert!(run.stderr.contains("`sn-ghost`"), "{run:#?}");
    assert!(
        run.stderr.contains("1 selected device does not exist"),
        "{run:#?}"
    );
    assert!(
        !run.stderr.contains("sn-000001"),
        "only the missing one is listed: {run:#?}"
    );
    assert_eq!(devices(&server), before, "no device moved");
    assert_eq!(event_count(&server, "device.moved"), 0);
}

#[test]
fn a_failure_inside_the_transaction_leaves_every_device_where_it_was() {
    let server = TestServer::start_with(|config| config.fail_bulk_after_rows = Some(100));
    let (server, cli) = setup_with(server, 500);
    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "sn-000007",
        "--yes",
    ])
    .success();
    let before = devices(&server);
    let run = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--to-cohort",
            "beta",
            "--yes",
        ])
        .failure(8);
    assert!(run.stderr.contains("failed"), "{run:#?}");
    assert_eq!(
        devices(&server),
        before,
        "product, cohort and revision all unchanged"
    );
    assert_eq!(event_count(&server, "device.moved"), 0, "no events survive");

    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "--no-cohort",
        "--yes",
    ])
    .failure(8);
    cli.run(&["cohort", "unassign", "--product", "p2", "--yes"])
        .success();
    assert_eq!(devices(&server), before);
    assert_eq!(
        event_count(&server, "device.cohort_assigned"),
        1,
        "only the first, small assign"
    );
}

#[test]
fn zero_matching_devices_exit_0_and_say_nothing_matched() {
    let (server, cli) = setup(3);
    let before = devices(&server);
    for extra in [&[][..], &["--yes"][..]] {
        let mut argv = vec![
            "device",
            "move",
            "--product",
            "p1",
            "--tag",
            "site:nowhere",
            "--to-product",
            "p2",
        ];
        argv.extend_from_slice(extra);
        let run = cli.run(&argv).success();
        assert!(run.stderr.contains("no devices matched"), "{run:#?}");
        assert_eq!(run.stdout, "");

        let mut argv = vec![
            "cohort",
            "assign",
            "a",
            "--product",
            "p1",
            "--tag",
            "site:nowhere",
        ];
        argv.extend_from_slice(extra);
        let run = cli.run(&argv).success();
        assert!(run.stderr.contains("no devices matched"), "{run:#?}");
    }
    let run = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p2",
            "--to-product",
            "p1",
            "-o",
            "json",
        ])
        .success();
    let result = run.json();
    assert_eq!(
        result["matched"], 0,
        "JSON output is the result object: {result}"
    );
    assert_eq!(result["changed"], 0, "{result}");
    assert_eq!(result["devices"], Value::Array(vec![]), "{result}");
    assert_eq!(devices(&server), before);
}

#[test]
fn without_yes_and_without_a_terminal_exit_3_and_change_nothing() {
    let (server, cli) = setup(3);
    let before = devices(&server);
    let run = cli
        .run(&["device", "move", "--product", "p1", "--to-product", "p2"])
        .failure(3);
    assert!(
        run.stderr.contains("move 3 devices to product `p2`"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("re-provisioned"), "{run:#?}");
    assert!(run.stderr.contains("--yes"), "{run:#?}");
    cli.run(&["cohort", "assign", "a", "--product", "p1", "--no-cohort"])
        .failure(3);
    cli.run(&[
        "device",
        "move",
        "sn-000000",
        "--to-product",
        "p2",
        "--no-input",
    ])
    .failure(3);
    assert_eq!(devices(&server), before);
}

#[test]
fn moved_devices_lose_their_cohort_must_be_reprovisioned_and_get_events() {
    let (server, cli) = setup(3);
    cli.run(&[
        "cohort",
        "assign",
        "a",
        "--product",
        "p1",
        "--no-cohort",
        "--yes",
    ])
    .success();
    let run = cli
        .run(&[
            "device",
            "move",
            "sn-000000",
            "sn-000001",
            "--to-product",
            "p2",
            "--yes",
            "-o",
            "json",
        ])
        .success();
    assert!(
        run.stderr.contains("moved 2 devices to product `p2`"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("re-provisioned"), "{run:#?}");
    let result = run.json();
    let moved = &result["devices"];
    assert_eq!(moved.as_array().map(Vec::len), Some(2), "{result}");
    assert_eq!(moved[0]["identifier"], "sn-000000");
    assert_eq!(moved[0]["product"], "p2");
    assert_eq!(moved[0]["cohort"], Value::Null);

    let shown = cli
        .run(&["device", "show", "sn-000000", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["product"], "p2");
    assert_eq!(shown["cohort"], Value::Null, "cohort cleared");
    assert_eq!(shown["needs_provisioning"], true);
    assert_eq!(
        shown["revision"], 3,
        "one bump for the assign, one for the move"
    );
    let untouched = cli
        .run(&["device", "show", "sn-000002", "-o", "json"])
        .success()
        .json();
    assert_eq!(untouched["product"], "p1");
    assert_eq!(untouched["needs_provisioning"], false);

    let p1 = cli
        .run(&["product", "show", "p1", "-o", "id"])
        .success()
        .stdout;
    let p2 = cli
        .run(&["product", "show", "p2", "-o", "id"])
        .success()
        .stdout;
    assert_eq!(event_count(&server, "device.moved"), 2, "each moved device");
    let events = device_events(&cli, "sn-000000", "device.moved");
    assert_eq!(
        events.len(),
        1,
        "the device's history has its move: {events:?}"
    );
    assert_eq!(events[0]["resource_id"], shown["id"]);
    assert_eq!(events[0]["product_id"], p2.trim());
    let details = &events[0]["details"];
    assert_eq!(details["from_product"], "p1");
    assert_eq!(details["from_product_id"], p1.trim());
    assert_eq!(details["to_product"], "p2");
    assert_eq!(details["to_product_id"], p2.trim());
    let revoked = rows(
        &server,
        "SELECT CAST(credentials_revoked_at AS TEXT) FROM device_records WHERE identifier = 'sn-000000'",
    );
    assert!(revoked[0][0].is_some(), "credentials revoked");

    cli.run(&[
        "device",
        "move",
        "sn-000002",
        "--to-product",
        "p2",
        "--to-cohort",
        "beta",
        "--yes",
    ])
    .success();
    let shown = cli
        .run(&["device", "show", "sn-000002", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["cohort"], "beta");
}

#[test]
fn an_archived_target_or_a_foreign_cohort_refuses_the_whole_move() {
    let (server, cli) = setup(2);
    let before = devices(&server);
    let run = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--to-cohort",
            "a",
            "--yes",
        ])
        .failure(7);
    assert!(
        run.stderr.contains("product `p2` has no cohort `a`"),
        "{run:#?}"
    );
    cli.run(&["product", "archive", "p2", "--yes"]).success();
    let run = cli
        .run(&[
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--yes",
        ])
        .failure(7);
    assert!(run.stderr.contains("archived"), "{run:#?}");
    cli.run(&[
        "device",
        "move",
        "--product",
        "p1",
        "--to-product",
        "nope",
        "--yes",
    ])
    .failure(6);
    assert_eq!(devices(&server), before);
    assert_eq!(event_count(&server, "device.moved"), 0);
}

#[test]
fn a_dry_run_shows_the_plan_with_refusals_and_changes_nothing() {
    let (server, cli) = setup(30);
    cli.run(&["device", "move", "sn-000029", "--to-product", "p2", "--yes"])
        .success();
    let before = devices(&server);
    let run = cli
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
    assert!(
        run.stderr
            .contains("29 devices matched; would move 29 devices"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("nothing was changed"), "{run:#?}");
    assert_eq!(
        run.lines().len(),
        29,
        "every device, not a sample: {run:#?}"
    );

    let run = cli
        .run(&[
            "device",
            "move",
            "sn-000000",
            "sn-ghost",
            "--to-product",
            "p2",
            "--dry-run",
        ])
        .success();
    assert!(
        run.stderr.contains("`sn-ghost`: no such device"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("sn-000000"), "{run:#?}");
    assert_eq!(devices(&server), before);
}

#[test]
fn an_explicit_list_larger_than_the_normal_body_limit_is_accepted() {
    let (server, cli) = setup(0);
    // Long identifiers so that 20,000 of them exceed the 1 MiB limit of other routes.
    let count = 20_000;
    server.seed_devices("p1", &"x".repeat(60), count);
    let names: String = (0..count)
        .map(|n| format!("{}-{n:06}\n", "x".repeat(60)))
        .collect();
    assert!(names.len() > fleet::server::DEFAULT_MAX_BODY_BYTES);
    let run = cli.run_with_stdin(
        &[
            "device",
            "move",
            "--from-file",
            "-",
            "--to-product",
            "p2",
            "--yes",
            "-o",
            "id",
        ],
        &names,
    );
    let run = run.success();
    assert_eq!(run.lines().len(), count);
    assert_eq!(event_count(&server, "device.moved"), count);
}
