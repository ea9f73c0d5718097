//! Access control through the real binary: `api-key`, `event list`, `whoami` with setting
//! sources, offline recovery with `fleet server api-key create`, and secrets kept out of logs,
//! error messages and `profile show`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::cli::Cli;
use crate::common::server::TestServer;

#[test]
fn api_key_create_list_show_revoke() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "indoor"]).success();
    let created = cli
        .run(&[
            "api-key",
            "create",
            "ci",
            "--role",
            "write",
            "--product",
            "indoor",
            "--expires-in",
            "90d",
            "-o",
            "json",
        ])
        .success();
    let key = created.json();
    let secret = key["secret"].as_str().expect("secret in JSON").to_owned();
    assert!(secret.starts_with("fleet_"));
    assert!(
        created.stderr.contains("shown only this once"),
        "{created:#?}"
    );
    assert!(
        !created.stderr.contains(&secret),
        "the secret belongs on stdout only"
    );
    assert_eq!(key["products"][0]["name"], "indoor");
    assert!(key["expires_at"].is_string());

    let list = cli.run(&["api-key", "list"]).success();
    assert!(
        list.stdout
            .contains(key["prefix"].as_str().expect("prefix")),
        "{list:#?}"
    );
    assert!(!list.stdout.contains(&secret));
    let show = cli.run(&["api-key", "show", "ci"]).success();
    assert!(
        show.stdout.contains("indoor") && show.stdout.contains("write"),
        "{show:#?}"
    );

    cli.run(&["api-key", "revoke", "ci"]).failure(3);
    let revoked = cli
        .run(&["api-key", "revoke", "ci", "--yes", "-o", "json"])
        .success();
    assert!(revoked.json()["revoked_at"].is_string());
    let rejected = cli
        .run_with_env(&["product", "list"], &[("FLEET_API_KEY", &secret)])
        .failure(4);
    assert!(rejected.stderr.contains("revoked"), "{rejected:#?}");
    assert!(
        !rejected.stderr.contains(&secret),
        "an error message showed the key"
    );

    let bad = cli.run(&["api-key", "create", "x", "--role", "root"]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    let bad = cli.run(&[
        "api-key",
        "create",
        "x",
        "--role",
        "read",
        "--expires-in",
        "soon",
    ]);
    assert_eq!(bad.code, 2, "{bad:#?}");
}

#[test]
fn event_list_filters() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "a"]).success();
    cli.run(&["product", "create", "b"]).success();
    cli.run(&["device", "create", "sn-1", "--product", "a"])
        .success();
    let all = cli
        .run(&["event", "list", "--since", "1h", "-o", "json"])
        .success()
        .json();
    let actions: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        ["product.created", "product.created", "device.created"]
    );
    let of_a = cli
        .run(&[
            "event",
            "list",
            "--product",
            "a",
            "--action",
            "device.*",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(of_a.as_array().expect("array").len(), 1);
    let table = cli
        .run(&["event", "list", "--key", "admin", "--limit", "1"])
        .success();
    assert!(
        table.stdout.contains("product.created") && table.stdout.contains("admin"),
        "{table:#?}"
    );
    let none = cli
        .run(&["event", "list", "--action", "auth.denied", "-o", "id"])
        .success();
    assert_eq!(none.stdout, "");
}

#[test]
fn whoami_says_where_each_setting_came_from() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let me = cli.run(&["whoami"]).success();
    assert!(
        me.stdout
            .contains("test (from default_profile in config.toml)"),
        "{me:#?}"
    );
    assert!(
        me.stdout
            .contains(&format!("{} (from profile `test`)", server.url)),
        "{me:#?}"
    );
    assert!(me.stdout.contains("from profile `test`"));
    assert!(
        me.stdout.contains("admin") && me.stdout.contains("all products"),
        "{me:#?}"
    );
    assert!(!me.stdout.contains(&server.api_key) && !me.stderr.contains(&server.api_key));

    let bare = Cli::new();
    let env = bare
        .run_with_env(
            &["whoami", "-o", "json"],
            &[
                ("FLEET_API_URL", &server.url),
                ("FLEET_API_KEY", &server.api_key),
            ],
        )
        .success()
        .json();
    assert_eq!(env["api_url_source"], "env var FLEET_API_URL");
    assert_eq!(env["api_key_source"], "env var FLEET_API_KEY");
    assert_eq!(env["role"], "admin");
    let flag = bare
        .run_with_env(
            &["--api-url", &server.url, "whoami", "-o", "json"],
            &[("FLEET_API_KEY", &server.api_key)],
        )
        .success()
        .json();
    assert_eq!(flag["api_url_source"], "flag --api-url");
}

#[test]
fn offline_recovery_key_works_against_a_running_server() {
    let server = TestServer::start();
    let cli = Cli::new();
    let dir = server.data_dir.path().to_str().expect("utf-8 path");
    let database = crate::common::backend::database_args(server.data_dir.path());
    let mut args = vec![
        "server",
        "api-key",
        "create",
        "--data-dir",
        dir,
        "--role",
        "admin",
        "--name",
        "rescue",
    ];
    args.extend(database.iter().map(String::as_str));
    let made = cli.run(&args).success();
    let secret = made.stdout.trim().to_owned();
    assert!(secret.starts_with("fleet_"), "{made:#?}");
    assert!(made.stderr.contains("shown only this once"));
    let me = cli
        .run_with_env(
            &["whoami", "-o", "json"],
            &[("FLEET_API_URL", &server.url), ("FLEET_API_KEY", &secret)],
        )
        .success()
        .json();
    assert_eq!(me["key_name"], "rescue");
    assert_eq!(me["role"], "admin");

    let empty = tempfile::tempdir().expect("tempdir");
    let missing = cli.run(&[
        "server",
        "api-key",
        "create",
        "--data-dir",
        empty.path().to_str().expect("utf-8"),
        "--role",
        "admin",
    ]);
    missing.failure(1);
    assert!(
        !empty.path().join(fleet::server::DB_FILE).exists(),
        "recovery must not create a database"
    );
}

/// Runs `fleet server` with debug logging, uses a fresh key (good and bad ones, through the CLI
/// with `-v`), and checks that no secret reaches the server log, CLI output or `profile show`.
#[test]
fn keys_never_reach_logs_errors_or_profile_show() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");
    let mut child = cli
        .std_command()
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--no-profile",
            "--data-dir",
        ])
        .arg(data.path())
        .env("FLEET_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fleet server");
    let stderr = child.stderr.take().expect("stderr");
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on ").nth(1) {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = url_tx.send(url);
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let url = url_rx.recv().expect("the server announced its URL");
    let admin = std::fs::read_to_string(data.path().join("admin-api-key")).expect("admin key file");
    let admin = admin.trim();

    let made = cli
        .run_with_env(
            &[
                "api-key", "create", "probe", "--role", "read", "-o", "json", "-v",
            ],
            &[("FLEET_API_URL", &url), ("FLEET_API_KEY", admin)],
        )
        .success();
    let secret = made.json()["secret"].as_str().expect("secret").to_owned();
    let wrong = format!("{secret}x");
    let env = [
        ("FLEET_API_URL", url.as_str()),
        ("FLEET_API_KEY", secret.as_str()),
    ];
    let ok = cli.run_with_env(&["product", "list", "-v"], &env).success();
    let denied = cli.run_with_env(&["product", "create", "nope", "-v"], &env);
    assert_eq!(denied.code, 4, "{denied:#?}");
    let unknown = cli.run_with_env(
        &["product", "list", "-v"],
        &[("FLEET_API_URL", &url), ("FLEET_API_KEY", &wrong)],
    );
    assert_eq!(unknown.code, 4, "{unknown:#?}");
    let with_flag = cli
        .run_with_env(&["--api-key", &wrong, "--api-url", &url, "whoami"], &[])
        .failure(4);
    fleet::config::save_profile(cli.config_dir(), "p", &url, &secret).expect("save profile");
    let shown = cli.run(&["profile", "show", "p", "-o", "json"]).success();

    let _ = child.kill();
    let _ = child.wait();
    let log = reader.join().expect("log reader");
    assert!(
        log.contains("DEBUG") || log.contains("debug"),
        "debug logging was on: {log}"
    );
    assert!(
        log.contains("unknown API key"),
        "the bad key attempt is logged (without the key)"
    );
    for (what, text) in [
        ("server log", log.as_str()),
        ("-v output", ok.stderr.as_str()),
        ("403 error", denied.stderr.as_str()),
        ("401 error", unknown.stderr.as_str()),
        ("flag error", with_flag.stderr.as_str()),
        ("profile show", shown.stdout.as_str()),
    ] {
        for key in [&secret, &wrong] {
            assert!(
                !text.contains(key.as_str()),
                "{what} contains a key: {text}"
            );
        }
        // Not even the random part alone.
        assert!(!text.contains(&secret[6..]), "{what} contains the key body");
    }
}
