//! Failures of the real binary: each maps to its exit code, says what went wrong on stderr,
//! and prints nothing on stdout. The messages are checked whole against snapshots.

use crate::common::cli::{Cli, dead_url};
use crate::common::server::TestServer;
use crate::common::snapshot;

#[test]
fn duplicate_product_name_exits_7_and_names_the_conflict() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "indoor-sensor"]).success();
    let run = cli
        .run(&["product", "create", "indoor-sensor", "-o", "json"])
        .failure(7);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("conflict", run.stderr);
    let listed = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(listed.lines().len(), 1, "nothing was created");
}

#[test]
fn invalid_input_exits_7_with_the_field() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli.run(&["product", "create", "Not Valid"]).failure(7);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("invalid_input", run.stderr);
}

/// A base URL given with the API's `/v1` (so every path has it twice) gets a hint that says
/// so, rather than one that says the API lives under /v1.
#[test]
fn an_api_url_ending_in_v1_is_named_as_the_cause() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let url = format!("{}/v1", server.url);
    let run = cli.run(&["--api-url", &url, "product", "list"]).failure(6);
    assert!(
        run.stderr
            .contains("hint: the path has /v1 twice: leave /v1 out of the base URL"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("lives under /v1"), "{run:#?}");
}

#[test]
fn unknown_resources_exit_6() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli.run(&["product", "show", "no-such-product"]).failure(6);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("not_found", run.stderr);
    cli.run(&["device", "show", "sn-none"]).failure(6);
    cli.run(&["cohort", "show", "beta", "--product", "no-such-product"])
        .failure(6);
    cli.run(&["product", "delete", "no-such-product", "--yes"])
        .failure(6);
}

#[test]
fn bad_api_key_exits_4() {
    let server = TestServer::start();
    let cli = Cli::with_profile(&server.url, "fleet_wrong_key");
    let run = cli.run(&["product", "list"]).failure(4);
    // One hint, naming the key's source and what to do about a key from there.
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("unknown_api_key", run.stderr);
    let run = cli
        .run(&["product", "list", "--api-key", "fleet_other_wrong_key"])
        .failure(4);
    assert_eq!(run.stderr.matches("hint:").count(), 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("the API key from flag --api-key was not accepted: it is unknown"),
        "{run:#?}"
    );
}

#[test]
fn missing_api_key_exits_4() {
    let server = TestServer::start();
    let cli = Cli::new();
    let run = cli
        .run(&["product", "list", "--api-url", &server.url])
        .failure(4);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("missing_api_key", run.stderr);
}

#[test]
fn server_down_exits_8_with_the_url() {
    let url = dead_url();
    let cli = Cli::with_profile(&url, "key");
    let run = cli.run(&["product", "list", "-o", "json"]).failure(8);
    assert!(run.stderr.contains(&url), "{run:#?}");
    // With a hint to start one.
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("service_down", run.stderr);
    // Writes fail the same way.
    cli.run(&["product", "create", "x"]).failure(8);
}

#[test]
fn bad_flag_exits_2() {
    let cli = Cli::new();
    let run = cli.run(&["product", "list", "--no-such-flag"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "");
    let _filters = snapshot::settings().bind_to_scope();
    insta::assert_snapshot!("unknown_flag", run.stderr);
    let run = cli.run(&["product", "list", "--limit", "0"]);
    assert_eq!(run.code, 2, "{run:#?}");
}

#[test]
fn nothing_configured_exits_2_with_a_hint() {
    let cli = Cli::new();
    let run = cli.run(&["product", "list"]).failure(2);
    let _filters = snapshot::settings().bind_to_scope();
    insta::assert_snapshot!("nothing_configured", run.stderr);
}

#[test]
fn delete_refused_while_devices_exist_exits_7() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["device", "create", "sn-1", "--product", "p1"])
        .success();
    let run = cli.run(&["product", "delete", "p1", "--yes"]).failure(7);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("delete_conflict", run.stderr);
    cli.run(&["product", "show", "p1"]).success();
}
