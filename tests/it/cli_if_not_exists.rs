//! `--if-not-exists` on `product create`, `cohort create` and `device create`: absent creates,
//! an equal existing object is printed with exit 0, a different one is refused (exit 7) with
//! the differing fields named.

use crate::common::cli::Cli;
use crate::common::server::TestServer;

fn product(cli: &Cli, extra: &[&str]) -> crate::common::cli::Run {
    let mut args = vec![
        "product",
        "create",
        "meter",
        "--if-not-exists",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    cli.run(&args)
}

#[test]
fn product_absent_then_equal_then_different() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let asked = ["-d", "Power meter", "--tag", "line:b", "--tag", "line:a"];
    let created = product(&cli, &asked).success().json();
    assert_eq!(created["name"], "meter");

    // Tags in another order are the same set.
    let again = product(
        &cli,
        &["-d", "Power meter", "--tag", "line:a", "--tag", "line:b"],
    )
    .success();
    assert_eq!(
        again.json()["id"],
        created["id"],
        "prints the existing product"
    );
    assert!(again.stderr.contains("already exists"), "{again:#?}");

    let differs = product(
        &cli,
        &["-d", "Gas meter", "--tag", "line:a", "--tag", "line:b"],
    )
    .failure(7);
    assert!(
        differs.stderr.contains("different description")
            && differs
                .stderr
                .contains("exists as `Power meter`, asked `Gas meter`"),
        "{differs:#?}"
    );
    // Leaving a flag out asks for the empty value, so it differs too.
    let fewer = product(&cli, &["-d", "Power meter"]).failure(7);
    assert!(fewer.stderr.contains("different tags"), "{fewer:#?}");
}

#[test]
fn without_the_flag_an_existing_product_is_still_a_conflict() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "meter"]).success();
    cli.run(&["product", "create", "meter"]).failure(7);
}

#[test]
fn cohort_absent_then_equal_then_different() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "meter"]).success();
    let create = |description: &str| {
        cli.run(&[
            "cohort",
            "create",
            "beta",
            "--product",
            "meter",
            "-d",
            description,
            "--if-not-exists",
            "-o",
            "json",
        ])
    };
    let created = create("Early").success().json();
    assert_eq!(create("Early").success().json()["id"], created["id"]);
    let differs = create("Late").failure(7);
    assert!(
        differs.stderr.contains("different description"),
        "{differs:#?}"
    );
}

#[test]
fn device_absent_then_equal_then_different() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "meter"]).success();
    cli.run(&["product", "create", "other"]).success();
    let beta = cli
        .run(&["cohort", "create", "beta", "--product", "meter", "-o", "id"])
        .success()
        .stdout
        .trim()
        .to_owned();
    let create = |product: &str, cohort: &str, target: &str| {
        cli.run(&[
            "device",
            "create",
            "sn-1",
            "--product",
            product,
            "--cohort",
            cohort,
            "--target",
            target,
            "--tag",
            "site:x",
            "--if-not-exists",
            "-o",
            "json",
        ])
    };
    let created = create("meter", "beta", "arm").success().json();
    // The cohort by ID instead of by name is the same cohort.
    let again = create("meter", &beta, "arm").success();
    assert_eq!(again.json()["id"], created["id"]);

    let differs = cli
        .run(&[
            "device",
            "create",
            "sn-1",
            "--product",
            "other",
            "--target",
            "x86",
            "--tag",
            "site:x",
            "--if-not-exists",
        ])
        .failure(7);
    assert!(
        differs.stderr.contains("different product, cohort, target"),
        "{differs:#?}"
    );
}
