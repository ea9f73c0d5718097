//! Profiles and settings precedence through the real binary: files, modes, comments, keys
//! never shown, and flag > env var > selected profile > default profile.

use crate::common::cli::{Cli, dead_url};
use crate::common::server::TestServer;
use crate::common::snapshot;

const KEY: &str = "fleet_secret_key_do_not_print";

#[test]
fn add_from_stdin_stores_the_key_owner_only_and_never_prints_it() {
    let cli = Cli::new();
    let add = cli
        .run_with_stdin(
            &[
                "profile",
                "add",
                "prod",
                "--api-url",
                "http://127.0.0.1:4040",
                "--api-key-stdin",
            ],
            &format!("{KEY}\n"),
        )
        .success();
    assert!(add.stderr.contains("now the default"), "{add:#?}");
    let credentials = std::fs::read_to_string(cli.config_file("credentials.toml")).expect("read");
    assert!(credentials.contains(KEY));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.config_file("credentials.toml"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for args in [
        &["profile", "list"][..],
        &["profile", "list", "-o", "json"],
        &["profile", "show"],
        &["profile", "show", "prod", "-o", "json"],
    ] {
        let run = cli.run(args).success();
        assert!(
            !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
            "{run:#?}"
        );
        assert!(run.stdout.contains("prod"), "{run:#?}");
    }
    let shown = cli.run(&["profile", "show", "-o", "json"]).success().json();
    assert_eq!(shown["has_api_key"], true);
    assert_eq!(shown["default"], true);
}

#[test]
fn add_without_terminal_or_stdin_flag_fails_with_a_hint() {
    let cli = Cli::new();
    let run = cli
        .run(&[
            "profile",
            "add",
            "prod",
            "--api-url",
            "http://127.0.0.1:4040",
        ])
        .failure(2);
    let _filters = snapshot::settings().bind_to_scope();
    insta::assert_snapshot!("add_needs_a_key", run.stderr);
    assert!(!cli.config_file("credentials.toml").exists());
}

#[test]
fn use_and_remove_edit_both_files_and_keep_comments() {
    let cli = Cli::new();
    std::fs::write(
        cli.config_file("config.toml"),
        "# written by hand; keep this\n[profiles.a]\napi_url = \"http://a\" # and this\n",
    )
    .expect("write");
    for name in ["a", "b"] {
        cli.run_with_stdin(
            &[
                "profile",
                "add",
                name,
                "--api-url",
                "http://x",
                "--api-key-stdin",
                // `a` exists (hand-written): replacing it is deliberate.
                "--force",
            ],
            "k\n",
        )
        .success();
    }
    cli.run(&["profile", "use", "b"]).success();
    let list = cli.run(&["profile", "list", "-o", "json"]).success().json();
    let defaults: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter(|p| p["default"] == true)
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(defaults, ["b"]);

    let removed = cli.run(&["profile", "remove", "b"]).success();
    assert!(
        removed.stderr.contains("no default profile"),
        "{removed:#?}"
    );
    let names = cli.run(&["profile", "list", "-o", "id"]).success();
    assert_eq!(names.lines(), ["a"]);
    let config = std::fs::read_to_string(cli.config_file("config.toml")).expect("read");
    let credentials = std::fs::read_to_string(cli.config_file("credentials.toml")).expect("read");
    assert!(config.contains("# written by hand; keep this"), "{config}");
    assert!(config.contains("# and this"), "{config}");
    assert!(!config.contains("profiles.b") && !credentials.contains("profiles.b"));

    cli.run(&["profile", "use", "nope"]).failure(2);
    cli.run(&["profile", "remove", "nope"]).failure(2);
}

#[test]
fn unknown_selected_profile_exits_2_listing_profiles() {
    let cli = Cli::with_profile("http://127.0.0.1:1", "k");
    let run = cli
        .run(&["product", "list", "--profile", "nope"])
        .failure(2);
    let _filters = snapshot::settings().bind_to_scope();
    insta::assert_snapshot!("unknown_profile", run.stderr);
    let run = cli.run_with_env(&["product", "list"], &[("FLEET_PROFILE", "nope")]);
    assert_eq!(run.code, 2, "{run:#?}");
}

#[test]
fn flag_beats_env_var_beats_profile() {
    let server = TestServer::start();
    let dead = dead_url();
    // The default profile points nowhere useful.
    let cli = Cli::with_profile(&dead, &server.api_key);

    let run = cli.run(&["product", "list", "-o", "json"]).failure(8);
    assert!(run.stderr.contains(&dead), "the profile applies: {run:#?}");

    // The env var beats the profile.
    cli.run_with_env(
        &["product", "list", "-o", "json"],
        &[("FLEET_API_URL", &server.url)],
    )
    .success();

    // The flag beats the env var.
    let other_dead = dead_url();
    let run = cli
        .run_with_env(
            &["product", "list", "--api-url", &other_dead],
            &[("FLEET_API_URL", &server.url)],
        )
        .failure(8);
    assert!(run.stderr.contains(&other_dead), "{run:#?}");
    cli.run_with_env(
        &["product", "list", "--api-url", &server.url],
        &[("FLEET_API_URL", &dead)],
    )
    .success();

    // Same for the key: a bad env key beats the good profile key, a good flag beats both.
    cli.run_with_env(
        &["product", "list", "--api-url", &server.url],
        &[("FLEET_API_KEY", "wrong")],
    )
    .failure(4);
    cli.run_with_env(
        &[
            "product",
            "list",
            "--api-url",
            &server.url,
            "--api-key",
            &server.api_key,
        ],
        &[("FLEET_API_KEY", "wrong")],
    )
    .success();
}

#[test]
fn selected_profile_beats_default_profile() {
    let server = TestServer::start();
    let cli = Cli::with_profile(&dead_url(), "k");
    fleet::config::save_profile(cli.config_dir(), "live", &server.url, &server.api_key)
        .expect("save");
    cli.run(&["product", "list"]).failure(8);
    cli.run(&["product", "list", "--profile", "live"]).success();
    cli.run_with_env(&["product", "list"], &[("FLEET_PROFILE", "live")])
        .success();
}

#[cfg(unix)]
#[test]
fn readable_credentials_give_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let cli = Cli::with_profile("http://127.0.0.1:1", "k");
    let path = cli.config_file("credentials.toml");
    let quiet = cli.run(&["profile", "list"]).success();
    assert!(!quiet.stderr.contains("warning"), "{quiet:#?}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = cli.run(&["profile", "list"]).success();
    let _filters = snapshot::settings().bind_to_scope();
    insta::assert_snapshot!("readable_credentials", run.stderr);
    assert!(!run.stdout.contains("warning"));
}
