//! Machine formats (`json`, `ndjson`, `id`) print the whole list unless `--limit` is given;
//! tables keep a first page with a hint, and an explicit `--limit` never suggests `--limit`.

use std::sync::OnceLock;

use crate::common::cli::{Cli, seed_devices};
use crate::common::server::TestServer;

/// More than a table's default page of 100.
const DEVICES: usize = 150;

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = TestServer::start();
        seed_devices(&server.url, &server.api_key, "complete", DEVICES);
        server
    })
}

#[test]
fn json_without_limit_prints_every_device() {
    let cli = Cli::against(server());
    let run = cli.run(&["device", "list", "-o", "json"]).success();
    let devices: Vec<fleet::api::Device> = serde_json::from_str(&run.stdout).expect("array");
    assert_eq!(devices.len(), DEVICES);
    assert!(!run.stderr.contains("--limit"), "{run:#?}");
}

#[test]
fn ndjson_and_id_without_limit_print_every_device() {
    let cli = Cli::against(server());
    for format in ["ndjson", "id"] {
        let run = cli.run(&["device", "list", "-o", format]).success();
        assert_eq!(run.lines().len(), DEVICES, "{format}: {run:#?}");
    }
}

#[test]
fn json_with_limit_prints_that_many_without_suggesting_limit() {
    let cli = Cli::against(server());
    let run = cli
        .run(&["device", "list", "--limit", "5", "-o", "json"])
        .success();
    let devices: Vec<fleet::api::Device> = serde_json::from_str(&run.stdout).expect("array");
    assert_eq!(devices.len(), 5);
    assert!(
        run.stderr.contains("showing the first 5 devices"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("pass --limit"), "{run:#?}");
}

#[test]
fn table_keeps_a_first_page_and_hints_at_more() {
    let cli = Cli::against(server());
    let run = cli.run(&["device", "list"]).success();
    // A header line plus the default page.
    assert_eq!(run.lines().len(), 101, "{run:#?}");
    assert!(
        run.stderr
            .contains("showing the first 100 devices; pass --limit N or --all to see more"),
        "{run:#?}"
    );
}

#[test]
fn table_with_limit_says_more_exist_without_suggesting_limit() {
    let cli = Cli::against(server());
    let run = cli.run(&["device", "list", "--limit", "7"]).success();
    assert_eq!(run.lines().len(), 8, "{run:#?}");
    assert!(
        run.stderr.contains("showing the first 7 devices"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("pass --limit"), "{run:#?}");
}
