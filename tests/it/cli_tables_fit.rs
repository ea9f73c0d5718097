//! Tables sized for people: cut to `COLUMNS` (or the terminal) with `…`, IDs only in `-o wide`,
//! times to the minute, whole values on a pipe, and colour only when asked.

use crate::common::cli::{Cli, Run};
use crate::common::server::TestServer;
use crate::common::snapshot;

const LONG_TAG: &str = "site:building-seven-north-wing-second-floor-lab";

/// A product with long tags and devices whose cells overflow 80 columns.
fn seed(cli: &Cli) {
    for args in [
        &[
            "product",
            "create",
            "indoor-climate-sensor-with-a-long-name",
            "-t",
            "line:home",
            "-t",
            LONG_TAG,
        ][..],
        &["product", "create", "outdoor-sensor"],
        &["cohort", "create", "beta", "--product", "outdoor-sensor"],
        &[
            "device",
            "create",
            "sn-0001",
            "--product",
            "indoor-climate-sensor-with-a-long-name",
            "--target",
            "aarch64-unknown-linux-gnu",
            "-t",
            LONG_TAG,
        ],
        &[
            "device",
            "create",
            "sn-0002",
            "--product",
            "outdoor-sensor",
            "--cohort",
            "beta",
        ],
    ] {
        cli.run(args).success();
    }
    // A read-only key trying to write: an `auth.denied` event with its route and reason.
    let secret = cli
        .run(&[
            "api-key", "create", "reader", "--role", "read", "-o", "json",
        ])
        .success()
        .json()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let denied = cli.run_with_env(
        &["product", "create", "not-allowed"],
        &[("FLEET_API_KEY", secret.as_str())],
    );
    assert_ne!(denied.code, 0, "{denied:#?}");
}

/// IDs cut to fit keep their prefix and length but lose their random digits.
fn mask_cut_ids(text: &str) -> String {
    let cut_id = regex::Regex::new(r"\b([a-z]{3})_([0-9a-f]+)…").expect("valid regex");
    cut_id
        .replace_all(text, |caps: &regex::Captures<'_>| {
            format!("{}_{}…", &caps[1], "x".repeat(caps[2].len()))
        })
        .into_owned()
}

fn run_at(cli: &Cli, columns: &str, args: &[&str]) -> Run {
    cli.run_with_env(args, &[("COLUMNS", columns)]).success()
}

#[test]
fn tables_fit_80_and_120_columns() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    for columns in ["80", "120"] {
        for (name, args) in [
            ("product_list", &["product", "list"][..]),
            ("device_list", &["device", "list"]),
            ("event_list", &["event", "list"]),
        ] {
            let run = run_at(&cli, columns, args);
            let width: usize = columns.parse().expect("number");
            for line in run.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{name} at {columns}: {line:?} is wider than the terminal"
                );
            }
            insta::assert_snapshot!(format!("{name}_{columns}"), mask_cut_ids(&run.stdout));
        }
    }
}

#[test]
fn events_name_their_resources_and_denials_say_route_and_reason() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let run = cli.run(&["event", "list", "-o", "wide"]).success();
    let line = |action: &str| -> String {
        run.lines()
            .into_iter()
            .find(|line| line.contains(action))
            .unwrap_or_else(|| panic!("no {action} in {run:#?}"))
            .to_owned()
    };
    assert!(line("device.created").contains(" sn-0001 "), "{run:#?}");
    assert!(line("cohort.created").contains(" beta "), "{run:#?}");
    assert!(
        line("product.created").contains(" indoor-climate-sensor-with-a-long-name "),
        "{run:#?}"
    );
    let denied = line("auth.denied");
    assert!(denied.contains(" reader "), "{denied}");
    assert!(denied.contains(" POST /v1/products (role)"), "{denied}");
    assert!(!denied.contains("coh_") && !line("device.created").contains("dev_"));
}

#[test]
fn device_show_says_whether_it_needs_provisioning() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let line = |run: &Run| {
        run.lines()
            .into_iter()
            .find(|line| line.starts_with("needs provisioning"))
            .map(str::to_owned)
    };
    let before = cli.run(&["device", "show", "sn-0002"]).success();
    assert_eq!(line(&before).as_deref(), Some("needs provisioning  no"));
    cli.run(&[
        "device",
        "move",
        "sn-0002",
        "--to-product",
        "indoor-climate-sensor-with-a-long-name",
        "--yes",
    ])
    .success();
    let after = cli.run(&["device", "show", "sn-0002"]).success();
    assert_eq!(line(&after).as_deref(), Some("needs provisioning  yes"));
}

#[test]
fn a_pipe_without_columns_gets_whole_values() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let piped = cli.run(&["device", "list"]).success();
    assert!(piped.stdout.contains(LONG_TAG), "{piped:#?}");
    let narrow = run_at(&cli, "80", &["device", "list"]);
    assert!(!narrow.stdout.contains(LONG_TAG), "{narrow:#?}");
    assert!(narrow.stdout.contains('…'), "{narrow:#?}");
}

#[test]
fn ids_are_in_the_wide_table_only() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let id = cli
        .run(&["product", "show", "outdoor-sensor", "-o", "id"])
        .success()
        .stdout;
    let id = id.trim();
    let table = run_at(&cli, "80", &["product", "list"]);
    assert!(!table.stdout.contains("prd_"), "{table:#?}");
    let wide = run_at(&cli, "80", &["product", "list", "-o", "wide"]);
    assert!(wide.lines()[0].contains("ID"), "{wide:#?}");
    assert!(wide.stdout.contains(id), "wide is never cut: {wide:#?}");
    assert!(wide.stdout.contains(LONG_TAG), "{wide:#?}");
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    seed(&cli);
    let run = |extra: &[&str], no_color: bool| {
        let mut cmd = cli.command();
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        let output = cmd
            .args(["device", "list"])
            .args(extra)
            .output()
            .expect("run fleet");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let always = run(&["--color", "always"], false);
    assert!(always.starts_with("\x1b[1mIDENTIFIER\x1b[0m"), "{always:?}");
    assert!(
        !run(&[], false).contains('\x1b'),
        "auto: no colour on a pipe"
    );
    assert!(
        !run(&["--color", "always"], true).contains('\x1b'),
        "NO_COLOR wins over --color always"
    );
}
