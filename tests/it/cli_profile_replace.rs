//! `fleet profile add` on an existing profile: without a terminal it needs `--force`, and the
//! result says truthfully whether the profile is the default.

use crate::common::cli::Cli;

fn add(cli: &Cli, name: &str, url: &str, key: &str, extra: &[&str]) -> crate::common::cli::Run {
    let mut args = vec![
        "profile",
        "add",
        name,
        "--api-url",
        url,
        "--api-key-stdin",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    cli.run_with_stdin(&args, &format!("{key}\n"))
}

#[test]
fn replacing_a_profile_needs_force_and_reports_the_default() {
    let cli = Cli::new();
    let first = add(&cli, "prod", "http://127.0.0.1:4040", "fleet_one", &[]).success();
    assert_eq!(first.json()["default"], true);

    let refused = add(&cli, "prod", "http://127.0.0.1:5050", "fleet_two", &[]).failure(3);
    assert!(
        refused
            .stderr
            .contains("profile `prod` already exists (http://127.0.0.1:4040)"),
        "{refused:#?}"
    );
    assert!(refused.stderr.contains("--force"), "{refused:#?}");
    let credentials = std::fs::read_to_string(cli.config_file("credentials.toml")).expect("read");
    assert!(credentials.contains("fleet_one") && !credentials.contains("fleet_two"));

    let replaced = add(
        &cli,
        "prod",
        "http://127.0.0.1:5050",
        "fleet_two",
        &["--force"],
    )
    .success();
    assert_eq!(replaced.json()["default"], true, "{replaced:#?}");
    assert_eq!(replaced.json()["api_url"], "http://127.0.0.1:5050");
    assert!(
        replaced.stderr.contains("still the default"),
        "{replaced:#?}"
    );
    let credentials = std::fs::read_to_string(cli.config_file("credentials.toml")).expect("read");
    assert!(credentials.contains("fleet_two") && !credentials.contains("fleet_one"));

    // A second, non-default profile stays non-default when replaced.
    add(&cli, "staging", "http://127.0.0.1:6060", "fleet_s", &[]).success();
    let again = add(
        &cli,
        "staging",
        "http://127.0.0.1:6061",
        "fleet_s2",
        &["--force"],
    )
    .success();
    assert_eq!(again.json()["default"], false);
}
