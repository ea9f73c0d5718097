//! Retries and failure mapping against a scripted HTTP stub (the real service cannot be made
//! to fail on cue): 429/502/503/504 are retried, other errors are not, and a retried write
//! keeps its `Idempotency-Key`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::common::cli::Cli;
use crate::common::snapshot;

/// One request as the stub saw it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves `script` (status, extra headers, body) in order, one response per connection; the
/// last entry repeats. Returns the URL and the requests seen.
fn stub(script: Vec<(u16, &'static str, &'static str)>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().expect("lock").push(Seen {
                request_line: request_line.trim_end().to_owned(),
                headers,
            });
            let (status, extra, body) = script[i.min(script.len() - 1)];
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

const EMPTY_PAGE: &str = r#"{"data":[],"next_cursor":null}"#;
const UNAVAILABLE: &str = r#"{"code":"unavailable","message":"shutting down"}"#;

#[test]
fn unavailable_and_rate_limited_are_retried() {
    let (url, seen) = stub(vec![
        (503, "", UNAVAILABLE),
        (
            429,
            "retry-after: 0\r\n",
            r#"{"code":"rate_limited","message":"slow down"}"#,
        ),
        (200, "", EMPTY_PAGE),
    ]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "list", "-o", "json"]).success();
    assert_eq!(run.json(), serde_json::json!([]));
    assert_eq!(seen.lock().expect("lock").len(), 3);
}

#[test]
fn persistent_503_gives_up_with_exit_8() {
    let (url, seen) = stub(vec![(503, "", UNAVAILABLE)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "list"]).failure(8);
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("gave_up_on_503", run.stderr);
    assert_eq!(
        seen.lock().expect("lock").len(),
        4,
        "one try and three retries"
    );
}

#[test]
fn client_errors_and_500_are_not_retried() {
    let (url, seen) = stub(vec![(
        409,
        "",
        r#"{"code":"conflict","message":"product `x` already exists","hint":"pick another name"}"#,
    )]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["product", "create", "x"]).failure(7);
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("service_conflict", run.stderr);
    assert_eq!(seen.lock().expect("lock").len(), 1);

    let (url, seen) = stub(vec![(500, "", r#"{"code":"internal","message":"boom"}"#)]);
    let cli = Cli::with_profile(&url, "k");
    cli.run(&["product", "show", "x"]).failure(8);
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[test]
fn a_retried_write_keeps_its_idempotency_key() {
    let (url, seen) = stub(vec![(502, "", ""), (503, "", UNAVAILABLE)]);
    let cli = Cli::with_profile(&url, "secret-key");
    cli.run(&["product", "create", "x"]).failure(8);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4);
    let keys: Vec<Option<&str>> = seen.iter().map(|s| s.header("idempotency-key")).collect();
    assert!(keys[0].is_some_and(|k| !k.is_empty()), "{seen:#?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "{seen:#?}");
    assert!(
        seen[0].request_line.starts_with("POST /v1/products "),
        "{seen:#?}"
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer secret-key"));
    assert!(
        seen[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("fleet/"))
    );
}

#[test]
fn unparseable_error_bodies_still_map_by_status() {
    let (url, _) = stub(vec![(404, "", "<html>not json</html>")]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["device", "show", "sn-1"]).failure(6);
    let _filters = snapshot::settings_for(&url).bind_to_scope();
    insta::assert_snapshot!("unparseable_404", run.stderr);
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let cli = Cli::new();
    let colored = cli
        .command()
        .env_remove("NO_COLOR")
        .args(["product", "list", "--color", "always"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&colored.stderr).contains("\x1b["));
    let plain = cli.run(&["product", "list", "--color", "always"]);
    assert!(!plain.stderr.contains('\x1b'), "NO_COLOR wins: {plain:#?}");
    let auto = cli
        .command()
        .env_remove("NO_COLOR")
        .args(["product", "list"])
        .output()
        .expect("run");
    assert!(
        !String::from_utf8_lossy(&auto.stderr).contains('\x1b'),
        "not a terminal, no colour"
    );
}
