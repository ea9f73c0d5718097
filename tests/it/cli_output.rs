//! Output formats of the real binary: JSON arrays, NDJSON, IDs, tables, the key/value view,
//! and that JSON is exactly the API object.

use crate::common::cli::{Cli, dead_url};
use crate::common::server::TestServer;
use crate::common::snapshot;

fn create_products(cli: &Cli, names: &[&str]) {
    for name in names {
        cli.run(&["product", "create", name, "--tag", "line:test"])
            .success();
    }
}

#[test]
fn product_list_json_is_an_array_of_api_objects() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let empty = cli.run(&["product", "list", "-o", "json"]).success();
    assert_eq!(empty.json(), serde_json::json!([]));

    create_products(&cli, &["indoor-sensor", "gateway-v2"]);
    let run = cli.run(&["product", "list", "-o", "json"]).success();
    let products: Vec<fleet::api::Product> =
        serde_json::from_str(&run.stdout).expect("an array of products");
    let names: Vec<&str> = products.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["indoor-sensor", "gateway-v2"]);
    assert_eq!(products[0].tags, ["line:test"]);
}

#[test]
fn product_list_ndjson_is_one_object_per_line() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["a1", "a2", "a3"]);
    let run = cli.run(&["product", "list", "-o", "ndjson"]).success();
    let lines = run.lines();
    assert_eq!(lines.len(), 3, "{run:#?}");
    for (line, name) in lines.iter().zip(["a1", "a2", "a3"]) {
        let product: fleet::api::Product = serde_json::from_str(line).expect("one object");
        assert_eq!(product.name, name);
    }
}

#[test]
fn product_list_id_prints_only_ids() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["b1", "b2"]);
    let json = cli.run(&["product", "list", "-o", "json"]).success().json();
    let expected: Vec<String> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    let run = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(run.lines(), expected);
    assert!(
        run.lines()
            .iter()
            .all(|id| fleet::api::ProductId::parse(id).is_some())
    );
}

#[test]
fn table_has_headers_and_show_has_fields() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["indoor-sensor"]);
    let table = cli.run(&["product", "list"]).success();
    let header: Vec<&str> = table.lines()[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "DEVICES", "ARCHIVED", "TAGS"]);
    assert!(table.lines()[1].starts_with("indoor-sensor "), "{table:#?}");
    let wide = cli.run(&["product", "list", "-o", "wide"]).success();
    let header: Vec<&str> = wide.lines()[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "ID", "DEVICES", "ARCHIVED", "TAGS"]);

    let show = cli.run(&["product", "show", "indoor-sensor"]).success();
    assert!(
        show.stdout.contains("name         indoor-sensor"),
        "{show:#?}"
    );
    assert!(show.stdout.contains("archived     no"), "{show:#?}");
    // Times to the second, RFC 3339 with Z, as `--since` takes them; JSON keeps microseconds.
    let json = cli
        .run(&["product", "show", "indoor-sensor", "-o", "json"])
        .success()
        .json();
    let exact = json["created_at"].as_str().expect("created_at").to_owned();
    let at = chrono::DateTime::parse_from_rfc3339(&exact).expect("RFC 3339");
    let shown = at
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert!(
        show.stdout.contains(&format!("created      {shown}\n")),
        "{shown} in {show:#?}"
    );
}

#[test]
fn write_commands_print_the_object_and_a_status_line() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli
        .run(&[
            "product",
            "create",
            "indoor-sensor",
            "-d",
            "Air",
            "-o",
            "json",
        ])
        .success();
    let created: fleet::api::Product = serde_json::from_str(&run.stdout).expect("a product");
    assert_eq!(created.description, "Air");
    assert!(
        run.stderr
            .contains(&format!("created product `indoor-sensor` ({})", created.id)),
        "{run:#?}"
    );

    // `show` by ID prints exactly what the API returns.
    let shown = cli
        .run(&["product", "show", created.id.as_str(), "-o", "json"])
        .success();
    let shown: fleet::api::Product = serde_json::from_str(&shown.stdout).expect("a product");
    assert_eq!(shown, created);

    let quiet = cli
        .run(&["product", "update", "indoor-sensor", "-d", "New", "-q"])
        .success();
    assert_eq!(quiet.stderr, "", "-q silences status lines");
}

#[test]
fn limit_stops_early_and_says_so() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["c1", "c2", "c3"]);
    let run = cli
        .run(&["product", "list", "--limit", "2", "-o", "id"])
        .success();
    assert_eq!(run.lines().len(), 2);
    let _filters = snapshot::settings_for(&server.url).bind_to_scope();
    insta::assert_snapshot!("limit_hint", run.stderr);

    let all = cli.run(&["product", "list", "--all", "-o", "id"]).success();
    assert_eq!(all.lines().len(), 3);
    assert_eq!(all.stderr, "");
}

#[test]
fn archived_filters_and_unarchive() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["old", "new"]);
    cli.run(&["product", "archive", "old", "--yes"]).success();
    let active = cli.run(&["product", "list", "-o", "id"]).success();
    let archived = cli
        .run(&["product", "list", "--archived", "-o", "ndjson"])
        .success();
    let every = cli
        .run(&["product", "list", "--all-states", "-o", "id"])
        .success();
    assert_eq!(active.lines().len(), 1);
    assert!(
        archived.stdout.contains("\"name\":\"old\""),
        "{archived:#?}"
    );
    assert_eq!(every.lines().len(), 2);
    let back = cli
        .run(&["product", "unarchive", "old", "-o", "json"])
        .success();
    assert_eq!(back.json()["archived"], false);
}

#[test]
fn cohorts_and_devices_by_name_or_id() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    create_products(&cli, &["indoor-sensor"]);
    let cohort = cli
        .run(&[
            "cohort",
            "create",
            "beta",
            "--product",
            "indoor-sensor",
            "-o",
            "json",
        ])
        .success()
        .json();
    let cohort_id = cohort["id"].as_str().expect("id");
    cli.run(&["cohort", "show", cohort_id, "--product", "indoor-sensor"])
        .success();
    let listed = cli
        .run(&["cohort", "list", "--product", "indoor-sensor", "-o", "id"])
        .success();
    assert_eq!(listed.lines(), [cohort_id]);
    let renamed = cli
        .run(&[
            "cohort",
            "update",
            "beta",
            "--product",
            "indoor-sensor",
            "--name",
            "early",
            "-o",
            "json",
        ])
        .success();
    assert_eq!(renamed.json()["name"], "early");

    let device = cli
        .run(&[
            "device",
            "create",
            "sn-0042",
            "--product",
            "indoor-sensor",
            "--cohort",
            "early",
            "--tag",
            "site:berlin",
            "--target",
            "aarch64-unknown-linux-gnu",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(device["cohort"], "early");
    let id = device["id"].as_str().expect("id");
    let updated = cli
        .run(&[
            "device",
            "update",
            id,
            "--no-cohort",
            "--add-tag",
            "floor:2",
            "--quarantine",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(updated["cohort"], serde_json::Value::Null);
    assert_eq!(updated["quarantined"], true);
    assert_eq!(
        updated["tags"],
        serde_json::json!(["floor:2", "site:berlin"])
    );

    let quarantined = cli
        .run(&["device", "list", "--quarantined", "-o", "id"])
        .success();
    assert_eq!(quarantined.lines(), [id]);
    let table = cli.run(&["device", "list"]).success();
    let header: Vec<&str> = table.lines()[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "IDENTIFIER",
            "PRODUCT",
            "COHORT",
            "TARGET",
            "TAGS",
            "QUARANTINED"
        ]
    );
    cli.run(&["device", "show", "sn-0042"]).success();
}

#[test]
fn update_without_changes_is_a_usage_error() {
    // A dead service: reaching it would exit 8, so exit 2 proves nothing was sent.
    let url = dead_url();
    let cli = Cli::with_profile(&url, "key");
    let run = cli.run(&["device", "update", "sn-1"]).failure(2);
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("nothing_to_update", run.stderr);
    cli.run(&["product", "update", "p"]).failure(2);
}

#[test]
fn completions_print_a_script() {
    let cli = Cli::new();
    let run = cli.run(&["completions", "bash"]).success();
    assert!(
        run.stdout.contains("_fleet()"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
}
