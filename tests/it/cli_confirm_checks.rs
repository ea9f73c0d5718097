//! Checks that can fail run before a confirmation is asked: `product delete` on a product with
//! devices says so at once, instead of asking (or demanding `--yes`) and failing afterwards.

use crate::common::cli::Cli;
use crate::common::server::TestServer;

#[test]
fn product_delete_with_devices_refuses_before_asking() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["device", "create", "sn-1", "--product", "p1"])
        .success();

    // No terminal and no --yes: the refusal is about the devices, not about confirmation.
    let run = cli.run(&["product", "delete", "p1"]).failure(7);
    assert!(
        run.stderr
            .starts_with("error: product `p1` still has 1 device; only a product without devices"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("needs confirmation"), "{run:#?}");
    assert!(
        run.stderr.contains("fleet device list --product p1"),
        "{run:#?}"
    );
    cli.run(&["product", "show", "p1"]).success();

    // An unknown product is not found before any question either.
    cli.run(&["product", "delete", "nope"]).failure(6);

    // Without devices the confirmation is what is missing.
    cli.run(&["device", "delete", "sn-1", "--yes"]).success();
    let run = cli.run(&["product", "delete", "p1"]).failure(3);
    assert!(run.stderr.contains("needs confirmation"), "{run:#?}");
    cli.run(&["product", "delete", "p1", "--yes"]).success();
}
