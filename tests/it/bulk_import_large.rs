//! Imports larger than one request may carry: a 413 from the service and a file over the row
//! limit both say how to split the file; `--chunk-rows` imports every row in several requests,
//! checks all chunks before importing any, and says which chunks landed when one fails.

use std::path::PathBuf;

use crate::bulk_support::{devices, setup_with};
use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::common::stub::{self, Step};

/// `rows` devices `d-0000`… with a tag and a description, so each row is ~80 bytes of JSON.
fn write_csv(cli: &Cli, rows: usize) -> PathBuf {
    let mut text = String::from("identifier,description,tags\n");
    for i in 0..rows {
        text.push_str(&format!(
            "d-{i:04},imported in a test,site:berlin;line:{i}\n"
        ));
    }
    let path = cli.config_dir().join("devices.csv");
    std::fs::write(&path, text).expect("write csv");
    path
}

/// A server whose bulk requests may be at most 4 KiB: about 50 rows.
fn small_limit() -> (TestServer, Cli) {
    setup_with(
        TestServer::start_with(|config| config.max_bulk_body_bytes = 4096),
        0,
    )
}

#[test]
fn a_body_over_the_services_limit_says_how_to_split_the_file() {
    let (server, cli) = small_limit();
    let csv = write_csv(&cli, 200);
    let path = csv.to_str().expect("utf-8");
    let run = cli
        .run(&["device", "import", path, "--product", "p1", "--yes"])
        .failure(7);
    assert!(run.stderr.contains("larger than the limit"), "{run:#?}");
    assert!(
        run.stderr.contains(&format!(
            "split {path} into files of at most 100 rows, each starting with the header line"
        )),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--chunk-rows 100"), "{run:#?}");
    assert!(devices(&server).is_empty(), "nothing imported");
}

#[test]
fn chunks_within_the_limit_import_every_row() {
    let (server, cli) = small_limit();
    let csv = write_csv(&cli, 200);
    let path = csv.to_str().expect("utf-8");
    let run = cli
        .run(&[
            "device",
            "import",
            path,
            "--product",
            "p1",
            "--chunk-rows",
            "20",
            "--yes",
            "-o",
            "id",
        ])
        .success();
    assert_eq!(run.lines().len(), 200, "{run:#?}");
    assert!(
        run.stderr
            .contains("chunk 10/10 (lines 182–201): 20 created, 0 updated, 0 unchanged"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("imported 200 devices into product `p1`"),
        "{run:#?}"
    );
    assert_eq!(devices(&server).len(), 200);

    let again = cli
        .run(&[
            "device",
            "import",
            path,
            "--product",
            "p1",
            "--chunk-rows",
            "20",
            "--yes",
        ])
        .success();
    assert!(again.stderr.contains("already as requested"), "{again:#?}");
}

#[test]
fn a_bad_row_in_a_later_chunk_stops_the_import_before_any_chunk() {
    let (server, cli) = small_limit();
    let mut text = std::fs::read_to_string(write_csv(&cli, 60)).expect("read");
    text.push_str("bad id,,\n");
    let path = cli.config_dir().join("bad.csv");
    std::fs::write(&path, text).expect("write");
    let path = path.to_str().expect("utf-8");
    let run = cli
        .run(&[
            "device",
            "import",
            path,
            "--product",
            "p1",
            "--chunk-rows",
            "20",
            "--yes",
        ])
        .failure(7);
    assert!(
        run.stderr.contains(&format!(
            "chunk 4/4 of {path} (line 62) failed, so no chunk was imported"
        )),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("\n  line 62: device identifier `bad id`"),
        "{run:#?}"
    );
    assert!(devices(&server).is_empty(), "{run:#?}");
}

#[test]
fn more_rows_than_one_request_takes_are_refused_up_front() {
    let (url, seen) = stub::serve(vec![Step::Close]);
    let cli = Cli::with_profile(&url, "k");
    let csv = write_csv(&cli, 100_001);
    let path = csv.to_str().expect("utf-8");
    let run = cli
        .run(&["device", "import", path, "--product", "p1", "--yes"])
        .failure(2);
    assert!(
        run.stderr
            .contains("has 100001 rows; one import takes at most 100000"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("split -l 100000"), "{run:#?}");
    assert!(seen.lock().expect("lock").is_empty(), "nothing sent");
}

const PLAN: &str = r#"{"dry_run":true,"matched":2,"changed":2,"unchanged":0,"created":2,"updated":0,"refused":0,"devices":[]}"#;
const LANDED: &str = r#"{"dry_run":false,"matched":2,"changed":2,"unchanged":0,"created":2,"updated":0,"refused":0,"devices":[]}"#;
const DISK_FULL: &str = r#"{"code":"insufficient_storage","message":"no space left on device"}"#;

#[test]
fn a_chunk_that_fails_after_others_landed_says_which_exit_5() {
    let (url, seen) = stub::serve(vec![
        Step::Answer(200, "", PLAN),
        Step::Answer(200, "", PLAN),
        Step::Answer(200, "", LANDED),
        Step::Answer(507, "", DISK_FULL),
    ]);
    let cli = Cli::with_profile(&url, "k");
    let csv = write_csv(&cli, 4);
    let path = csv.to_str().expect("utf-8");
    let run = cli.run(&[
        "device",
        "import",
        path,
        "--product",
        "p1",
        "--chunk-rows",
        "2",
        "--yes",
    ]);
    // The chunk that landed is reported before the error.
    assert_eq!(run.code, 5, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    assert!(
        run.stderr
            .starts_with("chunk 1/2 (lines 2–3): 2 created, 0 updated, 0 unchanged\nerror: "),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "chunk 2/2 of {path} (lines 4–5) failed after chunk 1 was imported (lines 2–3)"
        )),
        "{run:#?}"
    );
    assert!(run.stderr.contains("its disk is full"), "{run:#?}");
    assert!(
        run.stderr
            .contains("running the same command again is safe"),
        "{run:#?}"
    );
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4);
    let bodies: Vec<serde_json::Value> = seen
        .iter()
        .map(|s| serde_json::from_slice(&s.body).expect("a JSON body"))
        .collect();
    let identifiers = |b: &serde_json::Value| -> Vec<String> {
        b["devices"]
            .as_array()
            .expect("devices")
            .iter()
            .map(|d| d["identifier"].as_str().expect("identifier").to_owned())
            .collect()
    };
    assert_eq!(bodies[0]["dry_run"], true);
    assert_eq!(bodies[2]["dry_run"], false);
    assert_eq!(identifiers(&bodies[2]), ["d-0000", "d-0001"]);
    assert_eq!(identifiers(&bodies[3]), ["d-0002", "d-0003"]);
}
