//! Destructive commands: without a terminal they need `--yes` (exit 3, nothing changed).

use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::common::snapshot;

#[test]
fn archive_needs_yes_without_a_terminal() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    let run = cli.run(&["product", "archive", "p1"]).failure(3);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("confirmation_needed", run.stderr);
    let shown = cli.run(&["product", "show", "p1", "-o", "json"]).success();
    assert_eq!(shown.json()["archived"], false, "nothing changed");

    let done = cli
        .run(&["product", "archive", "p1", "--yes", "-o", "json"])
        .success();
    assert_eq!(done.json()["archived"], true);
}

#[test]
fn no_input_refuses_like_no_terminal() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["product", "delete", "p1", "--no-input"])
        .failure(3);
    cli.run_with_env(&["product", "delete", "p1"], &[("FLEET_YES", "true")])
        .success();
    cli.run(&["product", "show", "p1"]).failure(6);
}

/// The on/off variables take what CI jobs write (`1`, `yes`, `on`), not only `true`, and
/// refuse what they cannot read as either.
#[test]
fn on_off_variables_take_the_usual_spellings() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    for name in ["p1", "p2", "p3"] {
        cli.run(&["product", "create", name]).success();
    }
    cli.run_with_env(&["product", "delete", "p1"], &[("FLEET_YES", "0")])
        .failure(3);
    for (name, yes) in [("p1", "1"), ("p2", "yes"), ("p3", "on")] {
        let run = cli
            .run_with_env(
                &["product", "delete", name],
                &[("FLEET_YES", yes), ("FLEET_QUIET", "1")],
            )
            .success();
        assert!(run.stderr.is_empty(), "quiet: {}", run.stderr);
        cli.run(&["product", "show", name]).failure(6);
    }
    cli.run(&["product", "create", "p4"]).success();
    let refused = cli.run_with_env(&["product", "delete", "p4"], &[("FLEET_YES", "maybe")]);
    refused.failure(2);
    cli.run(&["product", "show", "p4"]).success();
    cli.run_with_env(&["product", "delete", "p4"], &[("FLEET_NO_INPUT", "1")])
        .failure(3);
}

#[test]
fn deletes_need_yes_without_a_terminal() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["cohort", "create", "beta", "--product", "p1"])
        .success();
    cli.run(&["device", "create", "sn-1", "--product", "p1"])
        .success();

    cli.run(&["device", "delete", "sn-1"]).failure(3);
    cli.run(&["cohort", "delete", "beta", "--product", "p1"])
        .failure(3);
    // A product with devices is refused before any question (see cli_confirm_checks).
    cli.run(&["product", "delete", "p1"]).failure(7);
    cli.run(&["device", "show", "sn-1"]).success();
    cli.run(&["cohort", "show", "beta", "--product", "p1"])
        .success();

    cli.run(&["device", "delete", "sn-1", "--yes"]).success();
    cli.run(&["device", "show", "sn-1"]).failure(6);
    cli.run(&["cohort", "delete", "beta", "--product", "p1", "-y"])
        .success();
    cli.run(&["cohort", "show", "beta", "--product", "p1"])
        .failure(6);
    let run = cli.run(&["product", "delete", "p1", "--yes"]).success();
    assert!(run.stderr.contains("deleted product `p1`"), "{run:#?}");
    cli.run(&["product", "show", "p1"]).failure(6);
}
