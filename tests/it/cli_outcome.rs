//! What the CLI says when the service cannot take a write: a full disk (507, said plainly and
//! not retried), and a connection that drops after a write was sent (the outcome is unknown,
//! which is not "the service is down"). Against the scripted stub; the real service is used
//! only to check that the suggested commands exist.

use crate::common::cli::{Cli, dead_url};
use crate::common::server::TestServer;
use crate::common::snapshot;
use crate::common::stub::{self, Step};

const DISK_FULL: &str = r#"{"code":"insufficient_storage","message":"the database could not be written: no space left on device","hint":"writes resume once the data directory has room"}"#;
const EMPTY_PAGE: &str = r#"{"data":[],"next_cursor":null}"#;
/// What `device delete` reads before it deletes.
const DEVICE: &str = r#"{"id":"dev_0190c2d4a8f47d8e9b2f3c4d5e6f7a8b","identifier":"sn-1","product_id":"prd_0190c2d4a8f47d8e9b2f3c4d5e6f7a8b","product":"p","cohort_id":null,"cohort":null,"description":"","tags":[],"target":null,"quarantined":false,"needs_provisioning":false,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","revision":1}"#;

#[test]
fn a_full_disk_is_said_plainly_once_with_exit_8() {
    let (url, seen) = stub::serve(vec![Step::Answer(507, "", DISK_FULL)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "create", "x"]).failure(8);
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "a full disk is not retried"
    );
    assert!(!run.stderr.contains("try again later"), "{run:#?}");
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("disk_full", run.stderr);
}

#[test]
fn the_insufficient_storage_code_alone_is_not_retried() {
    // A proxy in front of the service may turn the status into 503 and keep the body.
    let (url, seen) = stub::serve(vec![Step::Answer(503, "", DISK_FULL)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["device", "move", "sn-1", "--to-product", "gw", "--yes"]);
    let run = run.failure(8);
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(run.stderr.contains("its disk is full"), "{run:#?}");
}

#[test]
fn a_bulk_write_without_an_answer_has_an_unknown_outcome() {
    let (url, seen) = stub::serve(vec![Step::Close]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli
        .run(&["device", "move", "sn-1", "--to-product", "gw", "--yes"])
        .failure(8);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "a write that may have landed is not resent");
    assert!(seen[0].request_line.starts_with("POST /v1/bulk/move "));
    assert!(seen[0].header("idempotency-key").is_some(), "{seen:#?}");
    assert!(String::from_utf8_lossy(&seen[0].body).contains("sn-1"));
    assert!(!run.stderr.contains("could not reach"), "{run:#?}");
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("bulk_outcome_unknown", run.stderr);
}

#[test]
fn other_writes_without_an_answer_say_to_check_first() {
    let (url, _) = stub::serve(vec![Step::Close]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "create", "x"]).failure(8);
    assert!(run.stderr.contains("the outcome is unknown"), "{run:#?}");
    assert!(
        run.stderr
            .contains("check whether this one was applied before repeating it"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("`fleet event list --since 5m`"),
        "{run:#?}"
    );

    let (url, seen) = stub::serve(vec![Step::Answer(200, "", DEVICE), Step::Close]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["device", "delete", "sn-1", "--yes"]).failure(8);
    let seen = seen.lock().expect("lock").clone();
    assert!(seen[1].request_line.starts_with("DELETE "), "{seen:#?}");
    assert!(run.stderr.contains("the outcome is unknown"), "{run:#?}");
    assert!(run.stderr.contains("it answers not found"), "{run:#?}");
}

#[test]
fn a_refused_connection_still_means_the_service_is_unreachable() {
    let url = dead_url();
    let cli = Cli::with_profile(&url, "k");
    let run = cli
        .run(&["device", "move", "sn-1", "--to-product", "gw", "--yes"])
        .failure(8);
    assert!(
        run.stderr
            .contains("could not reach the fleet service at http://127.0.0.1:"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("start a local service"), "{run:#?}");
    assert!(!run.stderr.contains("outcome"), "{run:#?}");
}

#[test]
fn a_read_whose_connection_drops_is_retried() {
    let (url, seen) = stub::serve(vec![Step::Close, Step::Answer(200, "", EMPTY_PAGE)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "list", "-o", "json"]).success();
    assert_eq!(run.json(), serde_json::json!([]));
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[test]
fn a_success_whose_answer_is_cut_off_says_it_succeeded() {
    let (url, seen) = stub::serve(vec![Step::CutOff(201)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "create", "x"]).failure(8);
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(
        run.stderr
            .contains("answered 201 Created, but the connection dropped"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("the request succeeded"), "{run:#?}");
}

#[test]
fn the_suggested_event_queries_run_as_written() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    for action in [
        "device.moved",
        "device.cohort_assigned",
        "device.cohort_unassigned",
        "device.*",
    ] {
        cli.run(&["event", "list", "--action", action, "--since", "5m"])
            .success();
    }
    cli.run(&["event", "list", "--since", "5m"]).success();
}

#[test]
fn https_to_a_plain_http_service_says_so_and_names_the_http_url() {
    let server = TestServer::start();
    let https = server.url.replacen("http://", "https://", 1);
    let cli = Cli::with_profile(&https, "k");
    let run = cli.run(&["product", "list"]).failure(8);
    assert!(
        run.stderr.contains("it answered in plain HTTP, not TLS"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!("hint: use {}", server.url)),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("InvalidContentType"), "{run:#?}");
}
