//! Completing an upload verifies the whole digest over exactly the stored parts, whichever way
//! they came: out of order, replaced after the service had hashed them, split across a restart
//! or across two replicas on one data dir. And the push path with the service's default part
//! size (part digests taken while hashing the file) resumes and notices a changed file.

use std::net::SocketAddr;

use fleet::server::ServerConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::oneshot;

use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::firmware_support::content;

const PART: usize = 1024;

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A replica on `data_dir` with 1 KiB parts; dropping the sender stops it.
async fn replica(data_dir: &std::path::Path) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    let mut config = ServerConfig::new(data_dir);
    config.part_size_bytes = PART as u64;
    crate::common::backend::apply(&mut config);
    crate::common::replica::start(config).await
}

struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = request.bearer_auth(&self.key).send().await.expect("send");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, addr: SocketAddr, path: &str, body: Value) -> (StatusCode, Value) {
        let request = self.http.post(format!("http://{addr}{path}")).json(&body);
        self.send(request).await
    }

    async fn put_part(&self, addr: SocketAddr, bin: &str, number: usize, bytes: &[u8]) -> u16 {
        let request = self
            .http
            .put(format!("http://{addr}/v1/binaries/{bin}/parts/{number}"))
            .header("x-fleet-part-sha256", hex(bytes))
            .body(bytes.to_vec());
        self.send(request).await.0.as_u16()
    }

    async fn complete(&self, addr: SocketAddr, bin: &str) -> (StatusCode, Value) {
        let path = format!("/v1/binaries/{bin}/complete");
        self.post(addr, &path, json!({})).await
    }

    async fn download(&self, addr: SocketAddr, bin: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("http://{addr}/v1/binaries/{bin}/download"))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("download");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.bytes().await.expect("body").to_vec()
    }

    /// Product `p`, app `version`, declared as `size` bytes with SHA-256 `digest`: its ID.
    async fn declare(&self, addr: SocketAddr, version: &str, size: usize, digest: &str) -> String {
        let _ = self
            .post(addr, "/v1/products", json!({ "name": "p" }))
            .await;
        let base = "/v1/products/p/artifacts";
        let _ = self.post(addr, base, json!({ "name": "app" })).await;
        let versions = format!("{base}/app/versions");
        let _ = self
            .post(addr, &versions, json!({ "version": version }))
            .await;
        let binaries = format!("{versions}/{version}/binaries");
        let body = json!({ "target": "armv7", "size": size, "sha256": digest });
        let (status, created) = self.post(addr, &binaries, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["binary"]["id"].as_str().expect("id").to_owned()
    }
}

/// Starts a first replica (which bootstraps the admin key) and a client for it.
async fn first(dir: &std::path::Path) -> (SocketAddr, oneshot::Sender<()>, Client) {
    let (addr, key, stop) = replica(dir).await;
    let client = Client {
        http: reqwest::Client::new(),
        key: key.expect("a fresh data dir bootstraps a key"),
    };
    (addr, stop, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_arriving_in_reverse_order_complete_and_download_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _stop, c) = first(dir.path()).await;
    let bytes = content(7 * PART + 10, 3);
    let bin = c.declare(a, "1.0", bytes.len(), &hex(&bytes)).await;
    let parts: Vec<&[u8]> = bytes.chunks(PART).collect();
    for (i, part) in parts.iter().enumerate().rev() {
        assert_eq!(c.put_part(a, &bin, i + 1, part).await, 200);
    }
    let (status, done) = c.complete(a, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "ready");
    assert_eq!(c.download(a, &bin).await, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_replaced_after_it_was_hashed_is_what_complete_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _stop, c) = first(dir.path()).await;
    let bytes = content(4 * PART, 4);
    let mut other = bytes.clone();
    other[PART + 5] ^= 0xff; // part 2 differs
    let bin = c.declare(a, "1.0", bytes.len(), &hex(&bytes)).await;
    for (i, part) in bytes.chunks(PART).enumerate() {
        assert_eq!(c.put_part(a, &bin, i + 1, part).await, 200);
    }
    // Part 2 again with other (self-consistent) bytes: the declared file is no longer stored.
    assert_eq!(c.put_part(a, &bin, 2, &other[PART..2 * PART]).await, 200);
    let (status, refused) = c.complete(a, &bin).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("stays incomplete")),
        "{refused}"
    );
    // And back: the stored parts are the declared file again.
    assert_eq!(c.put_part(a, &bin, 2, &bytes[PART..2 * PART]).await, 200);
    let (status, done) = c.complete(a, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(c.download(a, &bin).await, bytes);
    assert_eq!(
        c.put_part(a, &bin, 2, &other[PART..2 * PART]).await,
        409,
        "a ready binary takes no parts"
    );
    assert_eq!(c.download(a, &bin).await, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_split_across_a_restart_completes_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, stop_a, c) = first(dir.path()).await;
    let bytes = content(6 * PART + 1, 5);
    let bin = c.declare(a, "1.0", bytes.len(), &hex(&bytes)).await;
    let parts: Vec<&[u8]> = bytes.chunks(PART).collect();
    for (i, part) in parts.iter().enumerate().take(3) {
        assert_eq!(c.put_part(a, &bin, i + 1, part).await, 200);
    }
    drop(stop_a);
    let (b, none, _stop_b) = replica(dir.path()).await;
    assert!(none.is_none());
    for (i, part) in parts.iter().enumerate().skip(3) {
        assert_eq!(c.put_part(b, &bin, i + 1, part).await, 200);
    }
    let (status, done) = c.complete(b, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(c.download(b, &bin).await, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_replaced_through_another_replica_is_seen_by_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _stop_a, c) = first(dir.path()).await;
    let (b, _, _stop_b) = replica(dir.path()).await;
    let bytes = content(3 * PART, 6);
    let mut other = bytes.clone();
    other[3] ^= 0xff; // part 1 differs
    let bin = c.declare(a, "1.0", bytes.len(), &hex(&bytes)).await;
    for (i, part) in bytes.chunks(PART).enumerate() {
        assert_eq!(c.put_part(a, &bin, i + 1, part).await, 200);
    }
    // Replica A may have hashed all three parts; B replaces part 1 behind its back.
    assert_eq!(c.put_part(b, &bin, 1, &other[..PART]).await, 200);
    let (status, refused) = c.complete(a, &bin).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(c.put_part(b, &bin, 1, &bytes[..PART]).await, 200);
    let (status, done) = c.complete(a, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(c.download(b, &bin).await, bytes);
}

/// A file of two default-size (8 MiB) parts, so the push sends the part digests it took while
/// hashing the file.
fn two_default_parts() -> Vec<u8> {
    content(8 * 1024 * 1024 + 5, 7)
}

#[test]
fn with_the_default_part_size_an_interrupted_push_resumes_and_pulls_intact() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p"]).success();
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = two_default_parts();
    let file = dir.path().join("app.img");
    std::fs::write(&file, &bytes).expect("write");
    let file = file.to_str().expect("utf-8");
    let push = [
        "firmware",
        "push",
        file,
        "-P",
        "p",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
    ];
    let stopped = cli.run_with_env(&push, &[("FLEET_TEST_STOP_AFTER_PARTS", "1")]);
    let stopped = stopped.failure(1);
    assert!(
        stopped.stderr.contains("stopped after 1 of 2 parts"),
        "{stopped:#?}"
    );
    let resumed = cli.run(&push).success();
    assert!(
        resumed.stderr.contains("resuming: 1 of 2 parts")
            && resumed.stderr.contains("1 of 2 parts sent"),
        "{resumed:#?}"
    );
    let pulled = dir.path().join("pulled.img");
    let pulled_s = pulled.to_str().expect("utf-8");
    cli.run(&[
        "firmware",
        "pull",
        "-P",
        "p",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
        "--out",
        pulled_s,
    ])
    .success();
    assert_eq!(std::fs::read(&pulled).expect("pulled"), bytes);
}

#[test]
fn with_the_default_part_size_a_file_changed_after_hashing_is_reported_as_changed() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p"]).success();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.img");
    std::fs::write(&file, two_default_parts()).expect("write");
    let file = file.to_str().expect("utf-8");
    let push = [
        "firmware",
        "push",
        file,
        "-P",
        "p",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
    ];
    let failed = cli.run_with_env(&push, &[("FLEET_TEST_MUTATE_AFTER_HASH", "1")]);
    let failed = failed.failure(1);
    assert!(
        failed.stderr.contains("changed while it was being pushed"),
        "{failed:#?}"
    );
    let again = cli.run(&push).success();
    assert!(again.stderr.contains("uploaded app 1.0"), "{again:#?}");
}

/// Renames every part object under `dir` to the key data dirs used before part keys held
/// their digest (`part-000001-<sha256>` → `part-000001`).
fn to_legacy_keys(dir: &std::path::Path) -> usize {
    let mut renamed = 0;
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            renamed += to_legacy_keys(&path);
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some((legacy, _digest)) = name.split_once('-').and_then(|(p, rest)| {
            let (number, digest) = rest.split_once('-')?;
            Some((format!("{p}-{number}"), digest))
        }) {
            std::fs::rename(&path, path.with_file_name(legacy)).expect("rename");
            renamed += 1;
        }
    }
    renamed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_stored_under_legacy_keys_still_complete_and_download() {
    if !crate::common::backend::local_blobs(
        "parts_stored_under_legacy_keys_still_complete_and_download",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, stop_a, c) = first(dir.path()).await;
    let bytes = content(3 * PART + 7, 8);
    let bin = c.declare(a, "1.0", bytes.len(), &hex(&bytes)).await;
    for (i, part) in bytes.chunks(PART).enumerate() {
        assert_eq!(c.put_part(a, &bin, i + 1, part).await, 200);
    }
    drop(stop_a);
    assert_eq!(to_legacy_keys(&dir.path().join("blobs")), 4);
    let (b, _, _stop_b) = replica(dir.path()).await;
    let (status, done) = c.complete(b, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(c.download(b, &bin).await, bytes);
}
