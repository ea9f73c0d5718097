//! Failures of the real binary: each maps to its exit code, says what went wrong on stderr,
//! and prints nothing on stdout.

use crate::common::cli::{Cli, dead_url};
use crate::common::server::TestServer;

#[test]
fn duplicate_product_name_exits_7_and_names_the_conflict() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "indoor-sensor"]).success();
    let run = cli
        .run(&["product", "create", "indoor-sensor", "-o", "json"])
        .failure(7);
    assert!(run.stderr.contains("indoor-sensor"), "{run:#?}");
    let listed = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(listed.lines().len(), 1, "nothing was created");
}

#[test]
fn invalid_input_exits_7_with_the_field() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli.run(&["product", "create", "Not Valid"]).failure(7);
    assert!(run.stderr.contains("name"), "{run:#?}");
}

#[test]
fn unknown_resources_exit_6() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli.run(&["product", "show", "no-such-product"]).failure(6);
    assert!(run.stderr.contains("no-such-product"), "{run:#?}");
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
    assert!(
        run.stderr.contains("profile `test`"),
        "the hint names the key's source: {run:#?}"
    );
}

#[test]
fn missing_api_key_exits_4() {
    let server = TestServer::start();
    let cli = Cli::new();
    let run = cli
        .run(&["product", "list", "--api-url", &server.url])
        .failure(4);
    assert!(run.stderr.contains("no API key"), "{run:#?}");
}

#[test]
fn server_down_exits_8_with_the_url() {
    let url = dead_url();
    let cli = Cli::with_profile(&url, "key");
    let run = cli.run(&["product", "list", "-o", "json"]).failure(8);
    assert!(run.stderr.contains(&url), "{run:#?}");
    assert!(
        run.stderr.contains("fleet server"),
        "hint to start one: {run:#?}"
    );
    // Writes fail the same way.
    cli.run(&["product", "create", "x"]).failure(8);
}

#[test]
fn bad_flag_exits_2() {
    let cli = Cli::new();
    let run = cli.run(&["product", "list", "--no-such-flag"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--no-such-flag"), "{run:#?}");
    let run = cli.run(&["product", "list", "--limit", "0"]);
    assert_eq!(run.code, 2, "{run:#?}");
}

#[test]
fn nothing_configured_exits_2_with_a_hint() {
    let cli = Cli::new();
    let run = cli.run(&["product", "list"]).failure(2);
    assert!(run.stderr.contains("hint: "), "{run:#?}");
    assert!(run.stderr.contains("fleet server"), "{run:#?}");
}

#[test]
fn delete_refused_while_devices_exist_exits_7() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["device", "create", "sn-1", "--product", "p1"])
        .success();
    cli.run(&["product", "delete", "p1", "--yes"]).failure(7);
    cli.run(&["product", "show", "p1"]).success();
}
