//! Runs the real `fleet` binary in a sealed environment: cleared env, a temporary HOME and
//! config dir, `NO_COLOR`, and (optionally) a profile pointing at a test server.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// One sealed CLI environment. Dropping it removes its temporary directories.
pub struct Cli {
    home: TempDir,
    config: TempDir,
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns self for further checks.
    #[track_caller]
    pub fn success(self) -> Run {
        if self.code != 0 {
            // stderr last: CI reports keep the end of a failure's text, and the reason is there.
            panic!(
                "expected success, got exit {}\n--- stdout:\n{}\n--- stderr:\n{}",
                self.code, self.stdout, self.stderr
            );
        }
        self
    }

    /// Asserts a failure with `code`, nothing on stdout and an `error:` line on stderr.
    #[track_caller]
    pub fn failure(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        assert_eq!(
            self.stdout, "",
            "failures print nothing on stdout: {self:#?}"
        );
        assert!(self.stderr.starts_with("error: "), "{self:#?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {:?}", self.stdout))
    }

    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl Cli {
    /// A sealed environment without any profile.
    pub fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().expect("temp home"),
            config: tempfile::tempdir().expect("temp config dir"),
        }
    }

    /// A sealed environment whose default profile `test` points at `url` with `api_key`.
    pub fn with_profile(url: &str, api_key: &str) -> Cli {
        let cli = Cli::new();
        fleet::config::save_profile(cli.config_dir(), "test", url, api_key).expect("save profile");
        cli
    }

    /// Against a running test server.
    pub fn against(server: &super::server::TestServer) -> Cli {
        Cli::with_profile(&server.url, &server.api_key)
    }

    pub fn config_dir(&self) -> &Path {
        self.config.path()
    }

    pub fn config_file(&self, name: &str) -> PathBuf {
        self.config.path().join(name)
    }

    /// The binary with the sealed environment, ready for arguments.
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("FLEET_CONFIG_DIR", self.config.path())
            .env("NO_COLOR", "1");
        cmd
    }

    /// [`Cli::std_command`] as an assert_cmd command.
    pub fn command(&self) -> Command {
        Command::from_std(self.std_command())
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().expect("run fleet"))
    }

    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        for (key, value) in env {
            cmd.env(key, value);
        }
        Run::from(cmd.args(args).output().expect("run fleet"))
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::from(
            self.command()
                .args(args)
                .write_stdin(stdin)
                .output()
                .expect("run fleet"),
        )
    }
}

/// A URL where nothing listens: bind port 0, note the port, close the listener.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Creates product `product` and `count` devices in it (`<product>-00000`, …) through the API,
/// many at a time. Returns the identifiers.
pub fn seed_devices(url: &str, api_key: &str, product: &str, count: usize) -> Vec<String> {
    use futures_util::StreamExt;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = fleet::client::ApiClient::new(url, api_key).expect("client");
    let identifiers: Vec<String> = (0..count).map(|i| format!("{product}-{i:05}")).collect();
    runtime.block_on(async {
        client
            .products()
            .create(&fleet::api::CreateProduct {
                name: product.to_owned(),
                ..Default::default()
            })
            .await
            .expect("create product");
        let creates = identifiers.iter().map(|identifier| {
            let client = client.clone();
            let body = fleet::api::CreateDevice {
                identifier: identifier.clone(),
                product: product.to_owned(),
                ..Default::default()
            };
            async move { client.devices().create(&body).await }
        });
        let mut results = futures_util::stream::iter(creates).buffer_unordered(16);
        while let Some(result) = results.next().await {
            result.expect("create device");
        }
    });
    identifiers
}
