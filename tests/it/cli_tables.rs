//! Table output of the list and show commands, whole, for fixed data; and the `-v` request log.
//! IDs, timestamps, ports and durations are replaced by placeholders (see `common::snapshot`).

use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::common::snapshot;

/// Two products (one archived), two cohorts and three devices, created in a fixed order.
fn seed(cli: &Cli) {
    for args in [
        &[
            "product",
            "create",
            "indoor-sensor",
            "-d",
            "Room climate sensor",
            "-t",
            "line:home",
        ][..],
        &["product", "create", "outdoor-sensor"],
        &["product", "archive", "outdoor-sensor", "--yes"],
        &[
            "cohort",
            "create",
            "beta",
            "--product",
            "indoor-sensor",
            "-d",
            "Early adopters",
        ],
        &["cohort", "create", "stable", "--product", "indoor-sensor"],
        &[
            "device",
            "create",
            "sn-0001",
            "--product",
            "indoor-sensor",
            "--cohort",
            "beta",
            "--target",
            "aarch64-unknown-linux-gnu",
            "-t",
            "site:lab",
            "-d",
            "On the bench",
        ],
        &["device", "create", "sn-0002", "--product", "indoor-sensor"],
        &[
            "device",
            "create",
            "sn-0003",
            "--product",
            "indoor-sensor",
            "--cohort",
            "stable",
        ],
    ] {
        cli.run(args).success();
    }
}

#[test]
fn tables_and_show_views_are_as_snapshotted() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    for (name, args) in [
        ("product_list", &["product", "list"][..]),
        ("product_list_archived", &["product", "list", "--archived"]),
        ("product_show", &["product", "show", "indoor-sensor"]),
        (
            "cohort_list",
            &["cohort", "list", "--product", "indoor-sensor"],
        ),
        (
            "cohort_show",
            &["cohort", "show", "beta", "--product", "indoor-sensor"],
        ),
        ("device_list", &["device", "list"]),
        ("device_show", &["device", "show", "sn-0001"]),
    ] {
        let run = cli.run(args).success();
        assert_eq!(run.stderr, "", "{name}: {run:#?}");
        insta::assert_snapshot!(name, run.stdout);
    }
}

#[test]
fn verbose_logs_each_request_on_stderr() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "indoor-sensor"]).success();
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    let run = cli.run(&["product", "list", "-o", "id", "-v"]).success();
    assert_eq!(
        run.lines().len(),
        1,
        "stdout carries the data only: {run:#?}"
    );
    insta::assert_snapshot!("verbose_product_list", run.stderr);
    let quiet = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(quiet.stderr, "", "no request log without -v: {quiet:#?}");
}
