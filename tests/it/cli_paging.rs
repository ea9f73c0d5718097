//! Long lists through the real binary: `--all` gets every device in order without duplicates
//! (one streamed answer), `--limit` follows pages, and a reader that stops early (`| head -1`)
//! is not an error.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::OnceLock;

use crate::common::cli::{Cli, seed_devices};
use crate::common::server::TestServer;

const DEVICES: usize = 2_500;

/// One server with 2,500 devices in product `big`, shared by the tests here (they only read).
struct BigFleet {
    server: TestServer,
    identifiers: Vec<String>,
}

fn big_fleet() -> &'static BigFleet {
    static FLEET: OnceLock<BigFleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        let server = TestServer::start();
        let identifiers = seed_devices(&server.url, &server.api_key, "big", DEVICES);
        BigFleet {
            server,
            identifiers,
        }
    })
}

#[test]
fn list_all_ndjson_returns_every_device_once_in_creation_order() {
    let fleet = big_fleet();
    let cli = Cli::against(&fleet.server);
    // -v logs each request on stderr, which shows that one request brought the whole list.
    let run = cli
        .run(&[
            "device",
            "list",
            "--all",
            "--product",
            "big",
            "-o",
            "ndjson",
            "-v",
        ])
        .success();
    let devices: Vec<fleet::api::Device> = run
        .lines()
        .iter()
        .map(|line| serde_json::from_str(line).expect("one device per line"))
        .collect();
    assert_eq!(devices.len(), DEVICES);

    let mut ids: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "IDs are time-ordered, so creation order means strictly increasing IDs"
    );
    ids.dedup();
    assert_eq!(ids.len(), DEVICES, "no duplicates");
    let mut got: Vec<&str> = devices.iter().map(|d| d.identifier.as_str()).collect();
    got.sort_unstable();
    let mut want: Vec<&str> = fleet.identifiers.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want, "every seeded device, nothing else");

    let requests: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("GET ") && l.contains("/v1/devices?"))
        .collect();
    assert_eq!(requests.len(), 1, "one streamed answer: {}", run.stderr);
    assert!(requests[0].contains("all=true"), "{}", run.stderr);
}

#[test]
fn list_all_json_streams_one_valid_array() {
    let fleet = big_fleet();
    let cli = Cli::against(&fleet.server);
    let run = cli
        .run(&["device", "list", "--all", "--product", "big", "-o", "json"])
        .success();
    let devices: Vec<fleet::api::Device> =
        serde_json::from_str(&run.stdout).expect("one JSON array");
    assert_eq!(devices.len(), DEVICES);
}

#[test]
fn a_limit_below_one_is_a_usage_error_that_says_what_to_pass() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let run = cli.run(&["device", "list", "--limit", "0"]).failure(2);
    assert!(run.stderr.contains("must be at least 1"), "{run:#?}");
    assert!(!run.stderr.contains("18446744073709551615"), "{run:#?}");
    let run = cli.run(&["device", "list", "--limit", "ten"]).failure(2);
    assert!(
        run.stderr.contains("`ten` is not a whole number"),
        "{run:#?}"
    );
}

#[test]
fn limit_across_pages_prints_exactly_that_many() {
    let fleet = big_fleet();
    let cli = Cli::against(&fleet.server);
    // -v logs each request: a bounded list follows pages rather than streaming everything.
    let run = cli
        .run(&["device", "list", "--limit", "1500", "-o", "id", "-v"])
        .success();
    assert_eq!(run.lines().len(), 1500);
    let pages = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("GET ") && l.contains("/v1/devices?"))
        .count();
    assert!(
        pages >= 2,
        "1,500 devices at 1,000 a page is 2 pages: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("showing the first 1500 devices"),
        "{run:#?}"
    );
}

#[test]
fn piping_into_head_exits_0_without_error_text() {
    let fleet = big_fleet();
    let cli = Cli::against(&fleet.server);
    // Far more output than a pipe buffer holds, so the writer must hit the closed pipe.
    let mut child = cli
        .std_command()
        .args(["device", "list", "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fleet");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read a line");
    // `stdout` was moved into the reader and is closed here, like `head -1` exiting.
    assert!(first.starts_with("IDENTIFIER"), "{first:?}");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
