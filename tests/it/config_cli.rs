//! `fleet config …`: set/unset/show (levels and --effective), apply from a file and stdin,
//! edit through $EDITOR (kept on failure), history, diff, rollback, schema, secrets.

use serde_json::json;

use crate::common::cli::Cli;
use crate::common::server::TestServer;

fn seeded() -> (TestServer, Cli) {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    for args in [
        &["product", "create", "sensor"][..],
        &["cohort", "create", "beta", "--product", "sensor"],
        &[
            "device",
            "create",
            "sn-1",
            "--product",
            "sensor",
            "--cohort",
            "beta",
        ],
    ] {
        cli.run(args).success();
    }
    (server, cli)
}

#[test]
fn set_unset_and_show_each_level_and_the_effective_merge() {
    let (_server, cli) = seeded();
    let set = cli
        .run(&[
            "config",
            "set",
            "-P",
            "sensor",
            "log.level=info",
            "rate=10",
            "tls=true",
            "name=\"42\"",
            "-m",
            "first",
        ])
        .success();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&set.stdout).expect("JSON document"),
        json!({"log": {"level": "info"}, "rate": 10, "tls": true, "name": "42"})
    );
    assert!(set.stderr.contains("revision 1"), "{}", set.stderr);
    cli.run(&[
        "config",
        "set",
        "-P",
        "sensor",
        "--cohort",
        "beta",
        "log.level=debug",
    ])
    .success();
    cli.run(&["config", "set", "--device", "sn-1", "tls=null"])
        .success();
    let effective = cli
        .run(&[
            "config",
            "show",
            "--device",
            "sn-1",
            "--effective",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        effective["document"],
        json!({"log": {"level": "debug"}, "rate": 10, "name": "42"})
    );
    cli.run(&["config", "unset", "-P", "sensor", "rate"])
        .success();
    let product = cli
        .run(&["config", "show", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    assert_eq!(product["revision"], json!(2));
    assert_eq!(
        product["document"],
        json!({"log": {"level": "info"}, "tls": true, "name": "42"})
    );
    // Usage errors name what is wrong.
    let bad = cli
        .run(&["config", "set", "-P", "sensor", "novalue"])
        .failure(2);
    assert!(bad.stderr.contains("key.path=value"), "{}", bad.stderr);
    cli.run(&["config", "show", "--cohort", "beta"]).failure(2);
}

#[test]
fn apply_history_diff_and_rollback() {
    let (_server, cli) = seeded();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("config.json");
    std::fs::write(&file, r#"{"rate": 10, "log": "info"}"#).expect("write");
    let path = file.to_str().expect("utf-8 path");
    cli.run(&[
        "config", "apply", "-P", "sensor", "--file", path, "-m", "from git",
    ])
    .success();
    cli.run_with_stdin(
        &[
            "config", "apply", "-P", "sensor", "--file", "-", "-m", "slower",
        ],
        r#"{"rate": 5, "log": "info"}"#,
    )
    .success();
    let history = cli.run(&["config", "history", "-P", "sensor"]).success();
    let lines = history.lines();
    assert!(lines[0].starts_with("REVISION"), "{}", history.stdout);
    assert!(
        lines[1].starts_with('2') && lines[1].ends_with("slower"),
        "{}",
        history.stdout
    );
    assert!(
        lines[2].starts_with('1') && lines[2].ends_with("from git"),
        "{}",
        history.stdout
    );
    let diff = cli.run(&["config", "diff", "1", "-P", "sensor"]).success();
    assert_eq!(diff.stdout, "~ rate 10 -> 5\n");
    assert!(diff.stderr.contains(": 1 change\n"), "{diff:#?}");
    let back = cli
        .run(&["config", "rollback", "1", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    assert_eq!(back["revision"], json!(3));
    assert_eq!(back["document"], json!({"rate": 10, "log": "info"}));
    std::fs::write(&file, "[1, 2]").expect("write");
    let refused = cli
        .run(&["config", "apply", "-P", "sensor", "--file", path])
        .failure(2);
    assert!(
        refused.stderr.contains("not a JSON object"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_schema_refusal_lists_the_paths_and_exits_7() {
    let (_server, cli) = seeded();
    let schema = r#"{"type": "object", "properties": {"rate": {"type": "integer", "maximum": 100}, "log": {"enum": ["info", "debug"]}}}"#;
    cli.run_with_stdin(
        &["config", "schema", "set", "-P", "sensor", "--file", "-"],
        schema,
    )
    .success();
    let shown = cli
        .run(&["config", "schema", "show", "-P", "sensor"])
        .success();
    assert!(
        shown.stdout.contains("\"maximum\": 100"),
        "{}",
        shown.stdout
    );
    let refused = cli
        .run(&["config", "set", "-P", "sensor", "rate=500", "log=loud"])
        .failure(7);
    assert!(refused.stderr.contains("config.rate"), "{}", refused.stderr);
    assert!(refused.stderr.contains("config.log"), "{}", refused.stderr);
    cli.run(&["config", "schema", "delete", "-P", "sensor"])
        .success();
    cli.run(&["config", "set", "-P", "sensor", "rate=500"])
        .success();
}

#[test]
fn secrets_read_as_stars_and_a_masked_apply_keeps_them() {
    let (_server, cli) = seeded();
    cli.run(&[
        "config",
        "set",
        "-P",
        "sensor",
        "--secret",
        "net.token=hunter2",
    ])
    .success();
    cli.run(&["config", "set", "-P", "sensor", "net.url=https://a"])
        .success();
    let shown = cli.run(&["config", "show", "-P", "sensor"]).success();
    assert!(!shown.stdout.contains("hunter2"), "{}", shown.stdout);
    assert!(shown.stdout.contains("\"***\""), "{}", shown.stdout);
    // Round trip: what `show` prints, applied back, changes nothing secret.
    cli.run_with_stdin(
        &["config", "apply", "-P", "sensor", "--file", "-"],
        &shown.stdout,
    )
    .success();
    let diff = cli
        .run(&["config", "diff", "2", "3", "-P", "sensor", "-o", "json"])
        .success();
    assert_eq!(diff.json()["changes"], json!([]));
}

/// An editor script that replaces the file's content with `content`.
fn editor(dir: &std::path::Path, content: &str) -> String {
    let script = dir.join("editor.sh");
    let data = dir.join("content.json");
    std::fs::write(&data, content).expect("write content");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncp '{}' \"$1\"\n", data.display()),
    )
    .expect("write");
    let mut perms = std::fs::metadata(&script).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    script.display().to_string()
}

#[test]
fn edit_sends_a_valid_edit_and_keeps_a_refused_one_in_a_file() {
    let (_server, cli) = seeded();
    cli.run(&["config", "set", "-P", "sensor", "rate=10"])
        .success();
    let dir = tempfile::tempdir().expect("dir");
    let good = editor(dir.path(), r#"{"rate": 20}"#);
    cli.run_with_env(
        &["config", "edit", "-P", "sensor", "-m", "edited"],
        &[("EDITOR", &good)],
    )
    .success();
    let now = cli
        .run(&["config", "show", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    assert_eq!(now["document"], json!({"rate": 20}));
    assert_eq!(now["revision"], json!(2));

    let broken = editor(dir.path(), "{\"rate\": ");
    let refused = cli
        .run_with_env(&["config", "edit", "-P", "sensor"], &[("EDITOR", &broken)])
        .failure(2);
    assert!(
        refused.stderr.contains("not valid JSON"),
        "{}",
        refused.stderr
    );
    let kept = refused
        .stderr
        .split_whitespace()
        .find(|w| w.contains("fleet-config-") && w.ends_with(".json;"))
        .map(|w| w.trim_end_matches(';').to_owned())
        .unwrap_or_else(|| panic!("no kept file named: {}", refused.stderr));
    assert_eq!(
        std::fs::read_to_string(&kept).expect("kept edit"),
        "{\"rate\": "
    );
    std::fs::remove_file(&kept).expect("clean up");
    let same = cli
        .run(&["config", "show", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    assert_eq!(same["revision"], json!(2), "nothing was sent");
}
