//! `fleet server` as a user starts it: the first start bootstraps a key and the `local`
//! profile so the next command just works; SIGTERM stops it cleanly; a restart creates nothing
//! new; `--no-profile` leaves the key in a 0600 file instead.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};

use crate::common::cli::Cli;

/// A `fleet server` child process and the stderr lines it printed up to "listening on".
pub struct Running {
    child: Child,
    pub url: String,
    pub startup: Vec<String>,
    rest: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Drop for Running {
    /// A test that ends, or fails, without stopping its server must not leave it running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn start(cli: &Cli, data_dir: &Path, extra: &[&str]) -> Running {
    start_on(cli, "127.0.0.1:0", data_dir, extra)
}

/// Like [`start`], listening on `listen`.
pub fn start_on(cli: &Cli, listen: &str, data_dir: &Path, extra: &[&str]) -> Running {
    let data_dir = data_dir.to_str().expect("utf-8 data dir");
    let mut args = vec!["--listen", listen, "--data-dir", data_dir];
    args.extend_from_slice(extra);
    start_with(cli, &args)
}

/// `fleet server ARGS`, returned once it is listening.
pub fn start_with(cli: &Cli, args: &[&str]) -> Running {
    start_with_env(cli, args, &[])
}

/// Like [`start_with`], with `env` added to the sealed environment.
pub fn start_with_env(cli: &Cli, args: &[&str], env: &[(&str, &Path)]) -> Running {
    let mut command = cli.std_command();
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .arg("server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fleet server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut startup = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("the server printed its address before exiting")
            .expect("stderr line");
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned);
        startup.push(line);
        if let Some(url) = url {
            break url;
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    Running {
        child,
        url,
        startup,
        rest: Some(rest),
    }
}

/// SIGKILL, as a crash or the OOM killer would end it.
pub fn kill(mut running: Running) {
    running.child.kill().expect("kill -9 the server");
    let _ = running.child.wait();
}

/// Sends SIGTERM and returns the exit status and the remaining stderr.
pub fn terminate(mut running: Running) -> (std::process::ExitStatus, Vec<String>) {
    let pid = running.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = running.child.wait().expect("wait for the server");
    let rest = running.rest.take().expect("stderr reader");
    (status, rest.join().expect("stderr reader"))
}

#[test]
fn first_start_makes_a_working_default_profile_and_restart_creates_nothing() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");

    let first = start(&cli, data.path(), &[]);
    let startup = first.startup.join("\n");
    let key_lines: Vec<&String> = first
        .startup
        .iter()
        .filter(|line| line.contains("fleet_"))
        .collect();
    assert_eq!(key_lines.len(), 1, "the key is printed once: {startup}");
    assert!(startup.contains("profile `local`"), "{startup}");
    let config = std::fs::read_to_string(cli.config_file("config.toml")).expect("config.toml");
    assert!(config.contains("default_profile = \"local\""), "{config}");
    assert!(config.contains(&first.url), "{config}");
    let mode = std::fs::metadata(cli.config_file("credentials.toml"))
        .expect("credentials.toml")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // No flags, no env: the profile alone is enough.
    cli.run(&["product", "create", "indoor-sensor"]).success();
    let listed = cli.run(&["product", "list", "-o", "id"]).success();
    assert_eq!(listed.lines().len(), 1, "{listed:#?}");

    let (status, _) = terminate(first);
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    let credentials_before =
        std::fs::read_to_string(cli.config_file("credentials.toml")).expect("credentials");

    let second = start(&cli, data.path(), &[]);
    let restart = second.startup.join("\n");
    assert!(
        !restart.contains("fleet_"),
        "no new key on restart: {restart}"
    );
    assert_eq!(
        std::fs::read_to_string(cli.config_file("credentials.toml")).expect("credentials"),
        credentials_before,
        "a restart leaves the credentials alone"
    );
    // The saved key still works against the restarted service (same data dir).
    let listed = cli
        .run_with_env(
            &["product", "list", "-o", "id"],
            &[("FLEET_API_URL", &second.url)],
        )
        .success();
    assert_eq!(listed.lines().len(), 1, "{listed:#?}");
    let (status, _) = terminate(second);
    assert!(status.success(), "{status:?}");
}

#[test]
fn no_profile_writes_the_key_to_a_private_file_instead() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");
    let running = start(&cli, data.path(), &["--no-profile"]);
    let key_file = data.path().join("admin-api-key");
    let key = std::fs::read_to_string(&key_file).expect("admin-api-key");
    let mode = std::fs::metadata(&key_file)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(key.trim().starts_with("fleet_"));
    assert!(
        !cli.config_file("config.toml").exists(),
        "--no-profile writes no profile"
    );
    cli.run_with_env(
        &["product", "list"],
        &[
            ("FLEET_API_URL", &running.url),
            ("FLEET_API_KEY", key.trim()),
        ],
    )
    .success();
    let (status, _) = terminate(running);
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn auth_failures_per_minute_sets_the_brute_force_budget() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");
    let running = start(
        &cli,
        data.path(),
        &["--no-profile", "--auth-failures-per-minute", "2"],
    );
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for attempt in 0..3 {
        let response = client
            .get(format!("{}/v1/products", running.url))
            .bearer_auth(format!("fleet_guess{attempt}"))
            .send()
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429], "two guesses, then refused");
    let (status, _) = terminate(running);
    assert!(status.success(), "{status:?}");
}
