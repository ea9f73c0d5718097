//! Helpers for the firmware tests: a server with a tiny part size (so small files have many
//! parts), a CLI against it, files with known content, and counting the parts that arrived.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::common::cli::{Cli, Run};
use crate::common::server::TestServer;

/// Part size of the test servers: 1 KiB.
pub const PART: usize = 1024;

pub struct Fw {
    /// Kept for its lifetime: dropping it stops the service.
    #[allow(dead_code)]
    pub server: TestServer,
    pub cli: Cli,
    pub dir: tempfile::TempDir,
}

/// A server with 1 KiB parts, products `p1` (cohort `beta`) and `p2` (cohort `other`).
pub fn setup() -> Fw {
    let server = TestServer::start_with(|config| config.part_size_bytes = PART as u64);
    let cli = Cli::against(&server);
    for (product, cohort) in [("p1", "beta"), ("p2", "other")] {
        cli.run(&["product", "create", product]).success();
        cli.run(&["cohort", "create", cohort, "--product", product])
            .success();
    }
    Fw {
        server,
        cli,
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// `len` bytes that differ per `seed`, so different files have different digests.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

impl Fw {
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// `fleet firmware push FILE -P p -a app --version version -t armv7` plus `extra`.
    pub fn push(&self, file: &Path, product: &str, version: &str, extra: &[&str]) -> Run {
        self.push_env(file, product, version, extra, &[])
    }

    pub fn push_env(
        &self,
        file: &Path,
        product: &str,
        version: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let file = file.to_str().expect("utf-8 path");
        let mut args = vec![
            "firmware",
            "push",
            file,
            "-P",
            product,
            "-a",
            "app",
            "--version",
            version,
            "-t",
            "armv7",
        ];
        args.extend_from_slice(extra);
        self.cli.run_with_env(&args, env)
    }

    /// How many part uploads the service accepted for `binary` (its audit events).
    pub fn parts_received(&self, binary: &str) -> usize {
        let run = self.cli.run(&[
            "event",
            "list",
            "--resource",
            binary,
            "--action",
            "binary.part_received",
            "--all",
            "-o",
            "id",
        ]);
        run.success().lines().len()
    }

    /// The binary of `p1`'s app `version` for armv7, as JSON (or None).
    pub fn binary(&self, product: &str, version: &str) -> Option<serde_json::Value> {
        let run = self.cli.run(&[
            "firmware",
            "list",
            "-P",
            product,
            "-a",
            "app",
            "--version",
            version,
            "-o",
            "json",
        ]);
        run.success()
            .json()
            .as_array()
            .expect("array")
            .first()
            .cloned()
    }
}

/// `fleet firmware push FILE -P p1 -a app --version 1.0 -t armv7 --parallel 1 EXTRA…`, started in the
/// background and paused once `parts` parts are sent: it creates `<dir>/paused`, and goes on once
/// `<dir>/resume` exists.
pub fn paused_push(fw: &Fw, file: &Path, parts: usize, dir: &Path, extra: &[&str]) -> Child {
    let file = file.to_str().expect("utf-8");
    let args = [
        "firmware",
        "push",
        file,
        "-P",
        "p1",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
        "--parallel",
        "1",
    ];
    let mut child = fw
        .cli
        .std_command()
        .args(args)
        .args(extra)
        .env("FLEET_TEST_PAUSE_AFTER_PARTS", parts.to_string())
        .env("FLEET_TEST_PAUSE_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fleet");
    let paused = dir.join("paused");
    // Waits for the push to reach its pause point (it says so by creating the file).
    while !paused.exists() {
        if let Some(status) = child.try_wait().expect("poll fleet") {
            panic!("the push ended before its pause point: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

/// Lets a paused push go on and waits for it to end.
pub fn resume(child: Child, dir: &Path) -> Run {
    std::fs::write(dir.join("resume"), b"").expect("resume");
    let output = child.wait_with_output().expect("wait for fleet");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The folder a paused push and its test meet in.
pub fn pause_dir(fw: &Fw) -> PathBuf {
    let dir = fw.dir.path().join("pause");
    std::fs::create_dir_all(&dir).expect("pause dir");
    dir
}
