//! Helpers for the device-update tests: a server with the device API and 1 KiB firmware parts,
//! product `sensor` with cohort `canary` and a JITP CA that provisions devices into it for
//! target `armv7`, firmware pushed and released with the CLI, and devices that check in and
//! report over mutual TLS.

use std::path::PathBuf;

use fleet::api::device_api::{CHECK_IN_PATH, REPORTS_PATH};
use fleet::server::ServerConfig;
use serde_json::{Value, json};

use crate::common::cli::Cli;
use crate::common::device::{self, Answer, DeviceConn, Jitp, TestCa};
use crate::common::server::TestServer;

/// Firmware part size of these servers: 1 KiB, so small files span several parts.
pub const PART: u64 = 1024;

pub struct Fleet {
    pub server: TestServer,
    pub cli: Cli,
    pub ca: TestCa,
    pub dir: tempfile::TempDir,
}

/// The server (check-ins written before they are answered, so tests read them back at once),
/// product `sensor`, cohort `canary`, and a JITP CA of `sensor` into `canary` for `armv7`.
pub fn setup() -> Fleet {
    setup_with(|config| config.part_size_bytes = PART)
}

/// [`setup`] with the server's configuration adjusted by `configure` instead of 1 KiB parts.
pub fn setup_with(configure: impl FnOnce(&mut ServerConfig) + Send + 'static) -> Fleet {
    let server = TestServer::start_with_devices(|config| {
        config.wait_for_check_in_writes = true;
        configure(config);
    });
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &server.storage,
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            cohort: Some("canary".to_owned()),
            target: Some("armv7".to_owned()),
            ..Jitp::default()
        },
    );
    Fleet {
        server,
        cli,
        ca,
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// `len` bytes that differ per `seed`.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| b'a' + ((i as u8).wrapping_mul(7).wrapping_add(seed) % 26))
        .collect()
}

impl Fleet {
    /// A device connection with a new certificate for `identifier` (JITP on first use).
    pub async fn device(&self, identifier: &str) -> DeviceConn {
        let identity = self.ca.issue(identifier);
        let addr = self.server.device_addr.expect("device listener");
        let fingerprint = self.server.device_fingerprint.clone().expect("fingerprint");
        device::connect(addr, &fingerprint, Some(&identity))
            .await
            .expect("connect")
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// Pushes `bytes` as `product`'s app `version` for `target` and releases it to `cohort` at
    /// `rollout` percent: the push's JSON (`binary`, `bundle`, `release`).
    pub fn release(
        &self,
        product: &str,
        cohort: &str,
        version: &str,
        target: &str,
        bytes: &[u8],
        rollout: u8,
    ) -> Value {
        let file = self.file(&format!("{product}-{version}-{target}.bin"), bytes);
        let rollout = rollout.to_string();
        self.cli
            .run(&[
                "firmware",
                "push",
                file.to_str().expect("utf-8 path"),
                "-P",
                product,
                "-a",
                "app",
                "--version",
                version,
                "-t",
                target,
                "--release-to",
                cohort,
                "--rollout",
                &rollout,
                "-o",
                "json",
            ])
            .success()
            .json()
    }

    /// `fleet device show DEVICE -o json`.
    pub fn show(&self, device: &str) -> Value {
        self.cli
            .run(&["device", "show", device, "-o", "json"])
            .success()
            .json()
    }

    /// Identifiers `fleet device list ARGS… --all` prints, sorted.
    pub fn list(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["device", "list", "--all", "-o", "json"];
        all.extend_from_slice(args);
        let out = self.cli.run(&all).success().json();
        let mut ids: Vec<String> = out
            .as_array()
            .expect("array")
            .iter()
            .map(|d| d["identifier"].as_str().expect("identifier").to_owned())
            .collect();
        ids.sort();
        ids
    }
}

pub async fn post(conn: &mut DeviceConn, path: &str, body: &Value) -> Answer {
    conn.request(
        "POST",
        path,
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await
    .expect("request")
}

/// A check-in saying the device runs `app` at `version` (none: an empty list).
pub async fn check_in(conn: &mut DeviceConn, version: Option<&str>) -> Answer {
    let running = match version {
        Some(v) => json!([{ "artifact": "app", "version": v }]),
        None => json!([]),
    };
    post(
        conn,
        CHECK_IN_PATH,
        &json!({ "running": running, "boot_id": "boot-1", "uptime_s": 42 }),
    )
    .await
}

pub async fn report(conn: &mut DeviceConn, release: &str, state: &str) -> Answer {
    let mut body = json!({ "release_id": release, "state": state });
    if state == "failed" {
        body["reason"] = json!("checksum mismatch after flashing");
    }
    post(conn, REPORTS_PATH, &body).await
}

/// The ID of the release a push made.
pub fn release_id(pushed: &Value) -> String {
    pushed["release"]["id"]
        .as_str()
        .expect("release id")
        .to_owned()
}
