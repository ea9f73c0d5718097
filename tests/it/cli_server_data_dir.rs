//! `fleet server api-key create` without `--data-dir` uses the same data directory as
//! `fleet server` without it, so the recovery key works against the running service.

use crate::cli_server::{start_with, terminate};
use crate::common::cli::Cli;

#[test]
fn offline_key_creation_defaults_to_the_servers_data_dir() {
    let cli = Cli::new();
    let running = start_with(&cli, &["--listen", "127.0.0.1:0", "--no-profile"]);
    let listening = running.startup.last().expect("listening line").clone();
    let data_dir = listening
        .split("(data in `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the data dir is named")
        .to_owned();

    let created = cli
        .run(&["server", "api-key", "create", "--role", "admin"])
        .success();
    assert!(
        created.stderr.contains(&format!("in `{data_dir}`")),
        "same data dir as the server ({data_dir}): {created:#?}"
    );
    let key = created.stdout.trim();
    cli.run_with_env(
        &["product", "list"],
        &[("FLEET_API_URL", &running.url), ("FLEET_API_KEY", key)],
    )
    .success();
    terminate(running);
}
