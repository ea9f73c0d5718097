//! `fleet product stats`, `fleet cohort stats` and `fleet release status`: `-o json` is the
//! API object, the screen fits 80 columns and is plain on a pipe or with `NO_COLOR`, and
//! `--watch` on a pipe appends one snapshot per refresh until interrupted.

use std::io::BufReader;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::api_support::Api;
use crate::common::cli::Cli;
use crate::simulate::{ca_dir, release, rollout_service, simulate_both_outcomes};

/// The object without `generated_at`, which differs between two reads.
fn timeless(mut stats: Value) -> Value {
    stats
        .as_object_mut()
        .expect("object")
        .remove("generated_at")
        .expect("generated_at");
    stats
}

/// A fleet of 4 simulated devices (half failing) that took a release to `canary`, and one
/// device without a cohort: the CLI and the API of it, and the release's ID.
async fn fleet() -> (Api, Cli, String, tempfile::TempDir) {
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let files = tempfile::tempdir().expect("temp dir");
    release(&cli, files.path(), "1.1.0", b"new firmware");
    simulate_both_outcomes(&server, ca.path(), 2, 2);
    let api = Api::with_server(server);
    api.device(json!({ "identifier": "spare", "product": "sensor" }))
        .await;
    let releases = api.get("/v1/products/sensor/releases").await;
    let id = releases.body["data"][0]["id"]
        .as_str()
        .expect("release id")
        .to_owned();
    (api, cli, id, ca)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_is_the_api_object_and_the_screen_fits_80_plain_columns() {
    let (api, cli, release_id, _ca) = fleet().await;
    let release_path = format!("/v1/products/sensor/releases/{release_id}/stats");
    let cases: [(&[&str], &str); 3] = [
        (&["product", "stats", "sensor"], "/v1/products/sensor/stats"),
        (
            &["cohort", "stats", "canary", "-P", "sensor"],
            "/v1/products/sensor/cohorts/canary/stats",
        ),
        (&["release", "status", &release_id], &release_path),
    ];
    for (args, path) in cases {
        let mut with_json = args.to_vec();
        with_json.extend(["-o", "json"]);
        let printed = cli.run(&with_json).success().json();
        let served = api.get(path).await;
        assert_eq!(served.status, 200, "{}", served.body);
        assert_eq!(timeless(printed), timeless(served.body), "{args:?}");

        let screen = cli.run(args).success().stdout;
        for line in screen.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
        }
        assert!(!screen.contains('\x1b'), "plain on a pipe: {screen}");
        for part in ["Devices", "Connection", "Check-ins", "Firmware", "Release"] {
            assert!(screen.contains(part), "{args:?} lacks {part}: {screen}");
        }
        assert!(screen.contains("succeeded"), "{screen}");
    }
    let screen = cli.run(&["product", "stats", "sensor"]).success().stdout;
    assert!(screen.contains("5 total"), "{screen}");
    assert!(screen.contains("1 without cohort"), "{screen}");

    // Colour when asked for, and never with NO_COLOR.
    let coloured = cli.run_with_env(
        &["product", "stats", "sensor", "--color", "always"],
        &[("NO_COLOR", "")],
    );
    assert!(coloured.success().stdout.contains("\x1b["));
    let plain = cli.run(&["product", "stats", "sensor", "--color", "always"]);
    assert!(!plain.success().stdout.contains('\x1b'));
}

#[tokio::test]
async fn unknown_scopes_fail_with_not_found() {
    let api = Api::start();
    api.product("sensor").await;
    let cli = Cli::against(&api.server);
    let run = cli.run(&["product", "stats", "nope"]).failure(6);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    cli.run(&["cohort", "stats", "nope", "-P", "sensor"])
        .failure(6);
    let run = cli.run(&["release", "status", "not-an-id"]).failure(2);
    assert!(run.stderr.contains("rel_"), "{}", run.stderr);
}

/// Reads `reader`'s lines until `count` of them satisfy `wanted`; every line read.
fn read_until(
    reader: &mut impl std::io::BufRead,
    count: usize,
    wanted: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut found = 0;
    while found < count {
        let mut line = String::new();
        let read = reader.read_line(&mut line).expect("read stdout");
        assert!(read > 0, "stdout ended early: {lines:?}");
        if wanted(&line) {
            found += 1;
        }
        lines.push(line);
    }
    lines
}

/// `fleet … --watch 1` with stdout on a pipe: `count` refreshes read, then SIGINT; exit 0.
fn watch(cli: &Cli, args: &[&str], count: usize, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut child = cli
        .std_command()
        .args(args)
        .args(["--watch", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fleet");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let lines = read_until(&mut stdout, count, wanted);
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a watch cleanly");
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_on_a_pipe_appends_a_snapshot_per_refresh_until_interrupted() {
    let (_api, cli, _release, _ca) = fleet().await;
    let lines = watch(&cli, &["product", "stats", "sensor"], 2, |l| {
        l.starts_with("──── ")
    });
    assert!(lines[0].starts_with("──── "), "{lines:?}");
    assert!(
        lines.iter().filter(|l| l.starts_with("Devices")).count() >= 1,
        "{lines:?}"
    );
    assert!(
        !lines.concat().contains('\x1b'),
        "no redraw codes on a pipe"
    );

    let objects = watch(
        &cli,
        &["product", "stats", "sensor", "-o", "json"],
        2,
        |_| true,
    );
    for line in objects {
        let stats: Value = serde_json::from_str(&line).expect("one JSON object per line");
        assert_eq!(stats["devices"]["total"], 5, "{stats}");
    }
}
