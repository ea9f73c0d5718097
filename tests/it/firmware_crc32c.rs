//! Uploads whose parts carry a CRC32C (`x-fleet-part-crc32c`) and whose whole SHA-256 is named
//! on completion: each part is still checked as it arrives, the whole digest is still verified
//! before the binary is ready, resuming compares parts by CRC32C, and parts may alternate
//! between replicas (small part objects, and on S3 the store's multipart upload). `fleet
//! firmware push` uploads this way.

use std::net::SocketAddr;

use fleet::server::ServerConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::oneshot;

use crate::firmware_support::{PART, content, setup};

/// S3's smallest multipart part: with it, uploads to S3 go through the multipart API.
const MULTIPART: usize = 5 * 1024 * 1024;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn crc(bytes: &[u8]) -> String {
    format!("{:08x}", crc32c::crc32c(bytes))
}

/// Two replicas of a fresh deployment (parts of `part` bytes) and the admin key.
struct Pair {
    a: SocketAddr,
    b: SocketAddr,
    http: reqwest::Client,
    key: String,
    _stops: [oneshot::Sender<()>; 2],
    _dir: tempfile::TempDir,
}

async fn replica(
    data_dir: &std::path::Path,
    part: usize,
) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    let mut config = ServerConfig::new(data_dir);
    config.part_size_bytes = part as u64;
    crate::common::backend::apply(&mut config);
    crate::common::replica::start(config).await
}

impl Pair {
    async fn start(part: usize) -> Pair {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, key, stop_a) = replica(dir.path(), part).await;
        let (b, _, stop_b) = replica(dir.path(), part).await;
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

    /// Declares app `version` of product `p` by its size only; the answer's binary.
    async fn declare(&self, version: &str, size: usize) -> Value {
        let _ = self
            .post(self.a, "/v1/products", json!({ "name": "p" }))
            .await;
        let base = "/v1/products/p/artifacts";
        let _ = self.post(self.a, base, json!({ "name": "app" })).await;
        let versions = format!("{base}/app/versions");
        let _ = self
            .post(self.a, &versions, json!({ "version": version }))
            .await;
        let binaries = format!("{versions}/{version}/binaries");
        let body = json!({ "target": "armv7", "size": size });
        let (status, created) = self.post(self.a, &binaries, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["binary"].clone()
    }

    async fn put(
        &self,
        at: SocketAddr,
        bin: &str,
        number: usize,
        bytes: &[u8],
        headers: &[(&str, String)],
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .put(format!("http://{at}/v1/binaries/{bin}/parts/{number}"))
            .body(bytes.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.send(request).await
    }

    async fn put_crc(&self, at: SocketAddr, bin: &str, number: usize, bytes: &[u8]) {
        let header = [("x-fleet-part-crc32c", crc(bytes))];
        let (status, body) = self.put(at, bin, number, bytes, &header).await;
        assert_eq!(status, StatusCode::OK, "part {number} to {at}: {body}");
    }

    async fn complete(&self, at: SocketAddr, bin: &str, body: Value) -> (StatusCode, Value) {
        self.post(at, &format!("/v1/binaries/{bin}/complete"), body)
            .await
    }

    async fn received(&self, at: SocketAddr, bin: &str) -> Vec<Value> {
        let (status, listed) = self.get(at, &format!("/v1/binaries/{bin}/parts")).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed["received"].as_array().expect("received").clone()
    }

    async fn download(&self, at: SocketAddr, bin: &str) -> Vec<u8> {
        let url = format!("http://{at}/v1/binaries/{bin}/download");
        let resp = self.http.get(url).bearer_auth(&self.key).send().await;
        let resp = resp.expect("download");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.bytes().await.expect("body").to_vec()
    }

    /// Parts (with their CRC32C) alternate between the replicas, `complete` names the digest on
    /// `completer`; both serve the whole file afterwards.
    async fn push_across(&self, version: &str, bytes: &[u8], part: usize, completer: SocketAddr) {
        let bin = self.declare(version, bytes.len()).await;
        let bin = bin["id"].as_str().expect("id").to_owned();
        for (i, chunk) in bytes.chunks(part).enumerate() {
            let at = if i % 2 == 0 { self.a } else { self.b };
            self.put_crc(at, &bin, i + 1, chunk).await;
        }
        let body = json!({ "sha256": sha256(bytes) });
        let (status, done) = self.complete(completer, &bin, body).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "ready");
        assert_eq!(done["sha256"], sha256(bytes));
        assert_eq!(self.download(self.a, &bin).await, bytes);
        assert_eq!(self.download(self.b, &bin).await, bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_sent_with_its_crc32c_is_checked_and_listed_by_it() {
    let pair = Pair::start(PART).await;
    let bytes = content(2 * PART + 7, 31);
    let binary = pair.declare("1.0", bytes.len()).await;
    assert_eq!(binary["state"], "uploading");
    assert_eq!(binary["sha256"], "", "not declared yet: {binary}");
    let bin = binary["id"].as_str().expect("id");
    let first = &bytes[..PART];

    let mut corrupted = first.to_vec();
    corrupted[3] ^= 0x01;
    let header = [("x-fleet-part-crc32c", crc(first))];
    let (status, refused) = pair.put(pair.a, bin, 1, &corrupted, &header).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(message.contains("CRC32C"), "{refused}");
    assert!(message.contains("nothing was stored"), "{refused}");
    assert!(pair.received(pair.a, bin).await.is_empty());

    let both = [
        ("x-fleet-part-crc32c", crc(first)),
        ("x-fleet-part-sha256", sha256(first)),
    ];
    // Both headers, or neither: exactly one is a rule between two fields (422).
    let (status, refused) = pair.put(pair.a, bin, 1, first, &both).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, refused) = pair.put(pair.a, bin, 1, first, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let malformed = [("x-fleet-part-crc32c", "123".to_owned())];
    let (status, refused) = pair.put(pair.a, bin, 1, first, &malformed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(pair.received(pair.a, bin).await.is_empty());

    let (status, part) = pair.put(pair.a, bin, 1, first, &header).await;
    assert_eq!(status, StatusCode::OK, "{part}");
    assert_eq!(
        part,
        json!({ "number": 1, "size": PART, "crc32c": crc(first) })
    );
    assert_eq!(pair.received(pair.b, bin).await, vec![part]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_declared_by_size_is_ready_only_with_the_digest_its_parts_have() {
    let pair = Pair::start(PART).await;
    let bytes = content(3 * PART + 100, 32);
    let binary = pair.declare("1.0", bytes.len()).await;
    let bin = binary["id"].as_str().expect("id");
    for (i, chunk) in bytes.chunks(PART).enumerate() {
        pair.put_crc(pair.a, bin, i + 1, chunk).await;
    }
    let (status, refused) = pair.complete(pair.a, bin, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("declared without its SHA-256")),
        "{refused}"
    );
    let mut other = bytes.clone();
    other[PART + 1] ^= 0x01;
    let wrong = json!({ "sha256": sha256(&other) });
    let (status, refused) = pair.complete(pair.b, bin, wrong.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("stays incomplete")),
        "{refused}"
    );
    let (_, still) = pair.get(pair.a, &format!("/v1/binaries/{bin}")).await;
    assert_eq!(still["state"], "uploading", "{still}");

    let right = json!({ "sha256": sha256(&bytes) });
    let (status, done) = pair.complete(pair.b, bin, right.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "ready");
    assert_eq!(done["sha256"], sha256(&bytes));
    assert_eq!(pair.download(pair.a, bin).await, bytes);
    // Again with the same digest: the ready binary; with another: refused, it is immutable.
    let (status, again) = pair.complete(pair.a, bin, right).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let (status, refused) = pair.complete(pair.a, bin, wrong).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crc32c_parts_alternating_between_replicas_complete_on_either() {
    let pair = Pair::start(PART).await;
    let bytes = content(9 * PART + 100, 33);
    pair.push_across("1.0", &bytes, PART, pair.b).await;
    let bytes = content(6 * PART, 34);
    pair.push_across("2.0", &bytes, PART, pair.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_sized_crc32c_parts_alternating_between_replicas_complete_on_either() {
    let pair = Pair::start(MULTIPART).await;
    let bytes = content(2 * MULTIPART + 1234, 35);
    pair.push_across("1.0", &bytes, MULTIPART, pair.b).await;
}

#[test]
fn push_sends_parts_with_their_crc32c_and_names_the_digest_on_completion() {
    let fw = setup();
    let bytes = content(5 * PART + 3, 36);
    let file = fw.file("app.img", &bytes);
    let env = [("FLEET_TEST_STOP_AFTER_PARTS", "2")];
    fw.push_env(&file, "p1", "1.0", &[], &env).failure(1);
    let binary = fw.binary("p1", "1.0").expect("declared");
    assert_eq!(binary["sha256"], "", "declared by size: {binary}");
    assert_eq!(binary["state"], "uploading", "{binary}");
    let id = binary["id"].as_str().expect("id");
    let received = received_parts(&fw.server, id);
    assert_eq!(received.len(), 2, "{received:?}");
    for part in &received {
        let number = part["number"].as_u64().expect("number") as usize;
        let chunk = &bytes[(number - 1) * PART..number * PART];
        assert_eq!(part["crc32c"], crc(chunk), "{part}");
        assert!(part.get("sha256").is_none(), "{part}");
    }
    let done = fw.push(&file, "p1", "1.0", &["-o", "json"]).success();
    assert!(done.stderr.contains("resuming: 2 of 6"), "{done:#?}");
    assert_eq!(done.json()["sha256"], sha256(&bytes));
    assert_eq!(fw.parts_received(id), 6, "each part sent once");
}

/// `GET /v1/binaries/{id}/parts`'s received parts, from a sync test.
fn received_parts(server: &crate::common::server::TestServer, id: &str) -> Vec<Value> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = format!("{}/v1/binaries/{id}/parts", server.url);
        let client = reqwest::Client::new();
        let resp = client.get(url).bearer_auth(&server.api_key).send().await;
        let listed: Value = resp.expect("send").json().await.expect("json");
        listed["received"].as_array().expect("received").clone()
    })
}
