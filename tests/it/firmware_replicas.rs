//! One firmware upload spread over replicas of one deployment (one database, one blob store):
//! parts alternate between two replicas and `complete` goes to either, with small parts (part
//! objects) and with 5 MiB parts (on S3, the store's multipart upload, whose ID and part ETags
//! only the database holds). A multipart upload that fails verification starts over.

use std::net::SocketAddr;

use fleet::server::ServerConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::oneshot;

use crate::firmware_support::content;

/// S3's smallest multipart part: with it, uploads to S3 go through the multipart API.
const MULTIPART: usize = 5 * 1024 * 1024;

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A replica on `data_dir`'s deployment with parts of `part` bytes; dropping the sender stops it.
async fn replica(
    data_dir: &std::path::Path,
    part: usize,
) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    let mut config = ServerConfig::new(data_dir);
    config.part_size_bytes = part as u64;
    crate::common::backend::apply(&mut config);
    crate::common::replica::start(config).await
}

/// Two replicas of a fresh deployment and the admin key the first bootstrapped.
struct Pair {
    a: SocketAddr,
    b: SocketAddr,
    http: reqwest::Client,
    key: String,
    _stops: [oneshot::Sender<()>; 2],
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start(part: usize) -> Pair {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, key, stop_a) = replica(dir.path(), part).await;
        let (b, none, stop_b) = replica(dir.path(), part).await;
        assert!(none.is_none(), "the second replica finds the deployment");
        Pair {
            a,
            b,
            http: reqwest::Client::new(),
            key: key.expect("a fresh deployment bootstraps a key"),
            _stops: [stop_a, stop_b],
            _dir: dir,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = request.bearer_auth(&self.key).send().await.expect("send");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, at: SocketAddr, path: &str, body: Value) -> (StatusCode, Value) {
        let request = self.http.post(format!("http://{at}{path}")).json(&body);
        self.send(request).await
    }

    async fn get(&self, at: SocketAddr, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("http://{at}{path}"))).await
    }

    /// Declares app `version` of product `p` (created on first use) on replica A.
    async fn declare(&self, version: &str, bytes: &[u8]) -> String {
        let _ = self
            .post(self.a, "/v1/products", json!({ "name": "p" }))
            .await;
        let base = "/v1/products/p/artifacts";
        let _ = self.post(self.a, base, json!({ "name": "app" })).await;
        let versions = format!("{base}/app/versions");
        let body = json!({ "version": version });
        let _ = self.post(self.a, &versions, body).await;
        let binaries = format!("{versions}/{version}/binaries");
        let body = json!({ "target": "armv7", "size": bytes.len(), "sha256": hex(bytes) });
        let (status, created) = self.post(self.a, &binaries, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["binary"]["id"].as_str().expect("id").to_owned()
    }

    async fn put_part(&self, at: SocketAddr, bin: &str, number: usize, bytes: &[u8]) {
        let request = self
            .http
            .put(format!("http://{at}/v1/binaries/{bin}/parts/{number}"))
            .header("x-fleet-part-sha256", hex(bytes))
            .body(bytes.to_vec());
        let (status, body) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "part {number} to {at}: {body}");
    }

    /// Part 1 to A, part 2 to B, part 3 to A, …
    async fn put_alternating(&self, bin: &str, parts: &[&[u8]]) {
        for (i, part) in parts.iter().enumerate() {
            let at = if i % 2 == 0 { self.a } else { self.b };
            self.put_part(at, bin, i + 1, part).await;
        }
    }

    async fn complete(&self, at: SocketAddr, bin: &str) -> (StatusCode, Value) {
        let path = format!("/v1/binaries/{bin}/complete");
        self.post(at, &path, json!({})).await
    }

    async fn download(&self, at: SocketAddr, bin: &str) -> Vec<u8> {
        let url = format!("http://{at}/v1/binaries/{bin}/download");
        let resp = self.http.get(url).bearer_auth(&self.key).send().await;
        let resp = resp.expect("download");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.bytes().await.expect("body").to_vec()
    }

    /// Parts alternate between the replicas, `complete` goes to `completer`; both serve the
    /// whole file afterwards.
    async fn push_across(&self, version: &str, bytes: &[u8], part: usize, completer: SocketAddr) {
        let bin = self.declare(version, bytes).await;
        let parts: Vec<&[u8]> = bytes.chunks(part).collect();
        self.put_alternating(&bin, &parts).await;
        let (status, listed) = self.get(self.b, &format!("/v1/binaries/{bin}/parts")).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let received = listed["received"].as_array().expect("received").len();
        assert_eq!(received, parts.len(), "{listed}");
        let (status, done) = self.complete(completer, &bin).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "ready");
        assert_eq!(self.download(self.a, &bin).await, bytes);
        assert_eq!(self.download(self.b, &bin).await, bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_parts_alternating_between_replicas_complete_on_either() {
    const PART: usize = 1024;
    let pair = Pair::start(PART).await;
    let bytes = content(9 * PART + 100, 21);
    pair.push_across("1.0", &bytes, PART, pair.b).await;
    let bytes = content(6 * PART, 22);
    pair.push_across("2.0", &bytes, PART, pair.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_sized_parts_alternating_between_replicas_complete_on_either() {
    let pair = Pair::start(MULTIPART).await;
    let bytes = content(2 * MULTIPART + 1234, 23);
    pair.push_across("1.0", &bytes, MULTIPART, pair.b).await;
    let bytes = content(3 * MULTIPART, 24);
    pair.push_across("2.0", &bytes, MULTIPART, pair.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_sized_upload_that_does_not_verify_can_be_sent_again() {
    let pair = Pair::start(MULTIPART).await;
    let bytes = content(2 * MULTIPART + 10, 25);
    let bin = pair.declare("1.0", &bytes).await;
    let mut wrong = bytes[..MULTIPART].to_vec();
    wrong[7] ^= 0xff; // self-consistent part 1, but not the declared file's
    pair.put_part(pair.a, &bin, 1, &wrong).await;
    pair.put_part(pair.b, &bin, 2, &bytes[MULTIPART..2 * MULTIPART])
        .await;
    pair.put_part(pair.a, &bin, 3, &bytes[2 * MULTIPART..])
        .await;
    let (status, refused) = pair.complete(pair.b, &bin).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(message.contains("stays incomplete"), "{refused}");
    let (_, listed) = pair.get(pair.a, &format!("/v1/binaries/{bin}/parts")).await;
    let received = listed["received"].as_array().expect("received").len();
    if crate::common::backend::is_s3() {
        // The store's multipart upload was used up assembling the wrong file: parts go.
        assert!(message.contains("its parts were discarded"), "{refused}");
        assert_eq!(received, 0, "{listed}");
        pair.put_part(pair.b, &bin, 2, &bytes[MULTIPART..2 * MULTIPART])
            .await;
        pair.put_part(pair.b, &bin, 3, &bytes[2 * MULTIPART..])
            .await;
    } else {
        // Part objects stay: only the wrong part needs sending again.
        assert!(!message.contains("discarded"), "{refused}");
        assert_eq!(received, 3, "{listed}");
    }
    pair.put_part(pair.a, &bin, 1, &bytes[..MULTIPART]).await;
    let (status, done) = pair.complete(pair.a, &bin).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(pair.download(pair.b, &bin).await, bytes);
}
