//! Messages read right for one and for many ("1 device … it", "2 devices … they") and name
//! what the user gave by ID.

use crate::common::cli::{Cli, Run};
use crate::common::server::TestServer;

fn id_of(cli: &Cli, args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.extend(["-o", "id"]);
    cli.run(&args).success().stdout.trim().to_owned()
}

fn setup() -> (TestServer, Cli) {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    for args in [
        &["product", "create", "p1"][..],
        &["product", "create", "p2"],
        &["cohort", "create", "beta", "--product", "p1"],
    ] {
        cli.run(args).success();
    }
    for device in ["sn-1", "sn-2", "sn-3"] {
        cli.run(&["device", "create", device, "--product", "p1"])
            .success();
    }
    (server, cli)
}

#[track_caller]
fn says(run: &Run, text: &str) {
    assert!(run.stderr.contains(text), "expected {text:?}: {run:#?}");
}

#[test]
fn moves_name_the_product_given_by_id_and_count_right() {
    let (_server, cli) = setup();
    let p2 = id_of(&cli, &["product", "show", "p2"]);
    let plan = cli
        .run(&["device", "move", "sn-1", "--to-product", &p2, "--dry-run"])
        .success();
    says(&plan, "would move 1 device to product `p2`");
    assert!(!plan.stderr.contains(&p2), "{plan:#?}");
    let one = cli
        .run(&["device", "move", "sn-1", "--to-product", &p2, "--yes"])
        .success();
    says(
        &one,
        "moved 1 device to product `p2`; it must be re-provisioned",
    );
    let many = cli
        .run(&[
            "device",
            "move",
            "sn-2",
            "sn-3",
            "--to-product",
            &p2,
            "--yes",
        ])
        .success();
    says(
        &many,
        "moved 2 devices to product `p2`; they must be re-provisioned",
    );
    let again = cli
        .run(&["device", "move", "sn-1", "--to-product", "p2"])
        .success();
    says(
        &again,
        "the device is already as requested; nothing changed",
    );
    let all = cli
        .run(&["device", "move", "sn-1", "sn-2", "--to-product", "p2"])
        .success();
    says(
        &all,
        "all 2 devices are already as requested; nothing changed",
    );
}

#[test]
fn cohort_messages_count_right_and_name_the_cohort_given_by_id() {
    let (_server, cli) = setup();
    let beta = id_of(&cli, &["cohort", "show", "beta", "--product", "p1"]);
    let one = cli
        .run(&[
            "cohort",
            "assign",
            &beta,
            "--product",
            "p1",
            "sn-1",
            "--yes",
        ])
        .success();
    says(&one, "assigned 1 device to cohort `beta`");
    assert!(!one.stderr.contains(&beta), "{one:#?}");
    let plan = cli
        .run(&[
            "cohort",
            "assign",
            &beta,
            "--product",
            "p1",
            "sn-1",
            "sn-2",
            "--dry-run",
        ])
        .success();
    says(
        &plan,
        "would assign 1 device to cohort `beta` of product `p1`",
    );
    says(&plan, "; 1 device is already as requested");
    let taken = cli
        .run(&["cohort", "unassign", "sn-1", "sn-2", "--yes"])
        .success();
    says(
        &taken,
        "took 1 device out of its cohort (1 device was in none)",
    );
    cli.run(&[
        "cohort",
        "assign",
        "beta",
        "--product",
        "p1",
        "sn-1",
        "sn-2",
        "--yes",
    ])
    .success();
    let many = cli
        .run(&["cohort", "unassign", "sn-1", "sn-2", "sn-3", "--yes"])
        .success();
    says(
        &many,
        "took 2 devices out of their cohorts (1 device was in none)",
    );
}
