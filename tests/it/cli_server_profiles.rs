//! Two `fleet server`s sharing one config dir: the second never replaces the first's `local`
//! profile (it saves `local-<PORT>` and says so), and a server started where a profile's key is
//! not one of its data dir says so with a hint.

use crate::cli_server::{start, start_on, terminate};
use crate::common::cli::Cli;

fn port_of(url: &str) -> &str {
    url.rsplit(':').next().expect("url has a port")
}

fn key_of(cli: &Cli, profile: &str) -> Option<String> {
    let text = std::fs::read_to_string(cli.config_file("credentials.toml")).expect("credentials");
    let doc: toml::Table = toml::from_str(&text).expect("credentials.toml parses");
    doc.get("profiles")?
        .get(profile)?
        .get("api_key")?
        .as_str()
        .map(str::to_owned)
}

#[test]
fn a_second_server_saves_a_new_profile_and_keeps_the_first() {
    let cli = Cli::new();
    let (data_a, data_b) = (
        tempfile::tempdir().expect("data dir"),
        tempfile::tempdir().expect("data dir"),
    );
    let first = start(&cli, data_a.path(), &[]);
    let first_key = key_of(&cli, "local").expect("first server saved `local`");

    let second = start(&cli, data_b.path(), &[]);
    let startup = second.startup.join("\n");
    let new_name = format!("local-{}", port_of(&second.url));
    assert!(
        startup.contains("profile `local` already exists")
            && startup.contains(&format!("saved it as profile `{new_name}`")),
        "{startup}"
    );
    assert_eq!(
        key_of(&cli, "local").as_deref(),
        Some(first_key.as_str()),
        "the first server's key is kept"
    );
    let config = std::fs::read_to_string(cli.config_file("config.toml")).expect("config");
    assert!(config.contains("default_profile = \"local\""), "{config}");

    // Both profiles reach their own server.
    cli.run(&["product", "create", "in-a"]).success();
    cli.run(&["--profile", &new_name, "product", "create", "in-b"])
        .success();
    let in_a = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(in_a.lines().len(), 1, "{in_a:#?}");

    terminate(second);
    terminate(first);
}

#[test]
fn a_profile_whose_key_this_data_dir_does_not_know_is_reported_at_start() {
    let cli = Cli::new();
    let (data_a, data_b) = (
        tempfile::tempdir().expect("data dir"),
        tempfile::tempdir().expect("data dir"),
    );
    let other = start(&cli, data_b.path(), &["--no-profile"]);
    let other_key = std::fs::read_to_string(data_b.path().join("admin-api-key")).expect("key");
    // A profile for this address holding a key of another data dir.
    let own = start(&cli, data_a.path(), &["--no-profile"]);
    cli.run_with_stdin(
        &[
            "profile",
            "add",
            "stale",
            "--api-url",
            &own.url,
            "--api-key-stdin",
        ],
        &other_key,
    )
    .success();
    let own_key = std::fs::read_to_string(data_a.path().join("admin-api-key")).expect("key");
    cli.run_with_stdin(
        &[
            "profile",
            "add",
            "good",
            "--api-url",
            &own.url,
            "--api-key-stdin",
        ],
        &own_key,
    )
    .success();
    let url = own.url.clone();
    terminate(own);
    terminate(other);

    // The same data dir restarted on the same address: no new key, the stale profile reported.
    let restarted = start_on(&cli, url.trim_start_matches("http://"), data_a.path(), &[]);
    let startup = restarted.startup.join("\n");
    assert!(
        startup.contains(&format!(
            "profile `stale` points at {url}, but its API key is not a valid key"
        )) && startup.contains("fleet server api-key create --data-dir"),
        "{startup}"
    );
    assert!(!startup.contains("profile `good`"), "{startup}");
    assert!(!startup.contains("fleet_"), "no new key: {startup}");
    terminate(restarted);
}
