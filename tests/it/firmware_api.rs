//! The firmware API directly: part verification on arrival, completion against the declared
//! digest, signatures, bundles and releases across products, the signed-firmware policy,
//! archived products, downloads and scoped keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::access_support::{call, key};
use crate::api_support::{Api, Resp};
use crate::common::server::TestServer;

const PART: usize = 1024;

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn api() -> Api {
    Api::with_server(TestServer::start_with(|c| c.part_size_bytes = PART as u64))
}

async fn declare(api: &Api, product: &str, version: &str, bytes: &[u8], digest: &str) -> Resp {
    let base = format!("/v1/products/{product}/artifacts");
    let _ = api.post(&base, json!({ "name": "app" })).await;
    let _ = api
        .post(
            &format!("{base}/app/versions"),
            json!({ "version": version }),
        )
        .await;
    api.post(
        &format!("{base}/app/versions/{version}/binaries"),
        json!({ "target": "armv7", "size": bytes.len(), "sha256": digest }),
    )
    .await
}

async fn put_part(api: &Api, bin: &str, number: usize, bytes: &[u8], digest: &str) -> Resp {
    let request = api
        .request(Method::PUT, &format!("/v1/binaries/{bin}/parts/{number}"))
        .header("x-fleet-part-sha256", digest)
        .body(bytes.to_vec());
    api.send(request).await
}

/// Declares and fully uploads `bytes` as `product`'s app `version`; returns the ready binary.
async fn upload(api: &Api, product: &str, version: &str, bytes: &[u8]) -> Value {
    let created = declare(api, product, version, bytes, &hex(bytes)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let bin = created.body["binary"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (i, chunk) in bytes.chunks(PART).enumerate() {
        let resp = put_part(api, &bin, i + 1, chunk, &hex(chunk)).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    let done = api
        .post(&format!("/v1/binaries/{bin}/complete"), json!({}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    done.body
}

#[tokio::test]
async fn a_corrupted_part_is_refused_and_not_kept_and_a_resend_works() {
    let api = api();
    api.product("p").await;
    let bytes: Vec<u8> = (0..2 * PART).map(|i| i as u8).collect();
    let created = declare(&api, "p", "1.0", &bytes, &hex(&bytes)).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["parts"].as_array().map(Vec::len), Some(2));
    let bin = created.body["binary"]["id"].as_str().expect("id");
    let part = &bytes[..PART];
    let mut corrupted = part.to_vec();
    corrupted[7] ^= 1;
    put_part(&api, bin, 1, &corrupted, &hex(part))
        .await
        .assert_error(422, "validation_failed");
    put_part(&api, bin, 1, &part[..10], &hex(&part[..10]))
        .await
        .assert_error(422, "validation_failed");
    let parts = api.get(&format!("/v1/binaries/{bin}/parts")).await;
    assert_eq!(
        parts.body["received"],
        json!([]),
        "nothing of a bad part is kept"
    );
    let early = api
        .post(&format!("/v1/binaries/{bin}/complete"), json!({}))
        .await;
    early.assert_error(409, "conflict");
    assert!(
        early.message().contains("missing 2 of 2 parts"),
        "{}",
        early.message()
    );
    assert_eq!(put_part(&api, bin, 1, part, &hex(part)).await.status, 200);
    let parts = api.get(&format!("/v1/binaries/{bin}/parts")).await;
    assert_eq!(parts.body["received"][0]["number"], 1);
    put_part(&api, bin, 3, part, &hex(part))
        .await
        .assert_error(422, "validation_failed");
}

#[tokio::test]
async fn a_wrong_declared_digest_leaves_the_binary_incomplete_and_a_correct_retry_works() {
    let api = api();
    api.product("p").await;
    let bytes: Vec<u8> = (0..3 * PART).map(|i| (i * 7) as u8).collect();
    let wrong = hex(b"something else");
    let created = declare(&api, "p", "1.0", &bytes, &wrong).await;
    let bin = created.body["binary"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (i, chunk) in bytes.chunks(PART).enumerate() {
        assert_eq!(
            put_part(&api, &bin, i + 1, chunk, &hex(chunk)).await.status,
            200
        );
    }
    let done = api
        .post(&format!("/v1/binaries/{bin}/complete"), json!({}))
        .await;
    done.assert_error(422, "validation_failed");
    assert!(
        done.message().contains("stays incomplete"),
        "{}",
        done.message()
    );
    let shown = api.get(&format!("/v1/binaries/{bin}")).await;
    assert_eq!(shown.body["state"], "uploading");
    let download = api.get(&format!("/v1/binaries/{bin}/download")).await;
    download.assert_error(409, "conflict");
    // Declaring the right digest restarts the same binary; then it completes.
    let again = declare(&api, "p", "1.0", &bytes, &hex(&bytes)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["binary"]["id"], bin.as_str());
    let parts = api.get(&format!("/v1/binaries/{bin}/parts")).await;
    assert_eq!(
        parts.body["received"],
        json!([]),
        "the old parts were dropped"
    );
    for (i, chunk) in bytes.chunks(PART).enumerate() {
        assert_eq!(
            put_part(&api, &bin, i + 1, chunk, &hex(chunk)).await.status,
            200
        );
    }
    let done = api
        .post(&format!("/v1/binaries/{bin}/complete"), json!({}))
        .await;
    assert_eq!(done.body["state"], "ready", "{}", done.body);
    let response = api
        .request(Method::GET, &format!("/v1/binaries/{bin}/download"))
        .send()
        .await
        .expect("download");
    assert_eq!(response.headers()["x-fleet-sha256"], hex(&bytes).as_str());
    assert_eq!(
        response.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(response.bytes().await.expect("body").to_vec(), bytes);
    put_part(&api, &bin, 1, &bytes[..PART], &hex(&bytes[..PART]))
        .await
        .assert_error(409, "conflict");
}

fn signing_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

#[tokio::test]
async fn signatures_are_verified_before_they_are_stored() {
    let api = api();
    api.product("p").await;
    let bin = upload(&api, "p", "1.0", &[1, 2, 3]).await;
    let id = bin["id"].as_str().expect("id");
    let key = signing_key(1);
    let public = STANDARD.encode(key.verifying_key().as_bytes());
    let created = api
        .post(
            "/v1/signing-keys",
            json!({ "name": "k", "public_key": public }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    api.post(
        "/v1/signing-keys",
        json!({ "name": "k2", "public_key": public }),
    )
    .await
    .assert_error(409, "conflict");
    api.post(
        "/v1/signing-keys",
        json!({ "name": "bad", "public_key": "AAAA" }),
    )
    .await
    .assert_error(422, "validation_failed");
    let digest: [u8; 32] = Sha256::digest([1u8, 2, 3]).into();
    let path = format!("/v1/binaries/{id}/signatures");
    // Signed by another key, and signed over the hex text instead of the digest bytes.
    for bad in [
        signing_key(2).sign(&digest),
        key.sign(hex(&[1, 2, 3]).as_bytes()),
    ] {
        let body = json!({ "key": "k", "signature": STANDARD.encode(bad.to_bytes()) });
        api.post(&path, body)
            .await
            .assert_error(422, "validation_failed");
    }
    api.post(&path, json!({ "key": "k", "signature": "not base64!" }))
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(
        api.get(&format!("/v1/binaries/{id}")).await.body["signatures"],
        json!([])
    );
    let good = json!({ "key": "k", "signature": STANDARD.encode(key.sign(&digest).to_bytes()) });
    let signed = api.post(&path, good).await;
    assert_eq!(signed.status, 201, "{}", signed.body);
    assert_eq!(signed.body["signatures"][0]["key_name"], "k");
}

#[tokio::test]
async fn releases_use_only_the_cohorts_own_products_firmware_and_keep_history() {
    let api = api();
    api.product("p").await;
    api.product("q").await;
    api.cohort("p", "beta").await;
    api.cohort("q", "other").await;
    let bin = upload(&api, "p", "1.0", &[9; 10]).await;
    let foreign = upload(&api, "q", "1.0", &[8; 10]).await;
    let bundle = api
        .post(
            "/v1/products/p/bundles",
            json!({ "name": "b1", "binaries": [bin["id"]] }),
        )
        .await;
    assert_eq!(bundle.status, 201, "{}", bundle.body);
    let mixed = api
        .post(
            "/v1/products/p/bundles",
            json!({ "name": "b2", "binaries": [bin["id"], foreign["id"]] }),
        )
        .await;
    mixed.assert_error(409, "conflict");
    let cross = api
        .post(
            "/v1/products/q/releases",
            json!({ "cohort": "other", "bundle": bundle.body["id"] }),
        )
        .await;
    cross.assert_error(409, "conflict");
    assert!(
        cross.message().contains("cohort's own product"),
        "{}",
        cross.message()
    );
    let q_releases = api.get("/v1/products/q/releases").await;
    assert_eq!(q_releases.body["data"], json!([]));

    let first = api
        .post(
            "/v1/products/p/releases",
            json!({ "cohort": "beta", "bundle": "b1", "rollout_percent": 10 }),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["previous_release_id"], Value::Null);
    let second = api
        .post(
            "/v1/products/p/releases",
            json!({ "cohort": "beta", "bundle": "b1", "required": true }),
        )
        .await;
    assert_eq!(second.body["previous_release_id"], first.body["id"]);
    assert_eq!(second.body["rollout_percent"], 100);
    let rid = second.body["id"].as_str().expect("id");
    let patched = api
        .patch(
            &format!("/v1/products/p/releases/{rid}"),
            json!({ "rollout_percent": 50 }),
        )
        .await;
    assert_eq!(patched.body["rollout_percent"], 50);
    assert_eq!(patched.body["revision"], 2);
    api.patch(
        &format!("/v1/products/p/releases/{rid}"),
        json!({ "rollout_percent": 101 }),
    )
    .await
    .assert_error(422, "validation_failed");
}

#[tokio::test]
async fn the_signed_firmware_policy_blocks_unsigned_releases() {
    let api = api();
    api.product("p").await;
    api.cohort("p", "beta").await;
    let bin = upload(&api, "p", "1.0", &[5; 5]).await;
    api.post(
        "/v1/products/p/bundles",
        json!({ "name": "b", "binaries": [bin["id"]] }),
    )
    .await;
    let policy = api
        .send(
            api.request(Method::PUT, "/v1/products/p/firmware-policy")
                .json(&json!({ "require_signed_firmware": true })),
        )
        .await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    let refused = api
        .post(
            "/v1/products/p/releases",
            json!({ "cohort": "beta", "bundle": "b" }),
        )
        .await;
    refused.assert_error(409, "conflict");
    assert!(
        refused.message().contains("unsigned"),
        "{}",
        refused.message()
    );
    let key = signing_key(3);
    let public = STANDARD.encode(key.verifying_key().as_bytes());
    api.post(
        "/v1/signing-keys",
        json!({ "name": "k", "public_key": public }),
    )
    .await;
    let digest: [u8; 32] = Sha256::digest([5u8; 5]).into();
    let id = bin["id"].as_str().expect("id");
    let sig = STANDARD.encode(key.sign(&digest).to_bytes());
    api.post(
        &format!("/v1/binaries/{id}/signatures"),
        json!({ "key": "k", "signature": sig }),
    )
    .await;
    let ok = api
        .post(
            "/v1/products/p/releases",
            json!({ "cohort": "beta", "bundle": "b" }),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[tokio::test]
async fn archived_products_take_no_new_firmware_or_releases() {
    let api = api();
    api.product("p").await;
    api.cohort("p", "beta").await;
    let bin = upload(&api, "p", "1.0", &[1; 3]).await;
    api.post(
        "/v1/products/p/bundles",
        json!({ "name": "b", "binaries": [bin["id"]] }),
    )
    .await;
    api.patch("/v1/products/p", json!({ "archived": true }))
        .await;
    for (path, body) in [
        ("/v1/products/p/artifacts", json!({ "name": "rootfs" })),
        (
            "/v1/products/p/artifacts/app/versions",
            json!({ "version": "2.0" }),
        ),
        (
            "/v1/products/p/artifacts/app/versions/1.0/binaries",
            json!({ "target": "x86", "size": 1, "sha256": hex(b"x") }),
        ),
        (
            "/v1/products/p/bundles",
            json!({ "name": "b2", "binaries": [bin["id"]] }),
        ),
        (
            "/v1/products/p/releases",
            json!({ "cohort": "beta", "bundle": "b" }),
        ),
    ] {
        let resp = api.post(path, body).await;
        resp.assert_error(409, "conflict");
        assert!(
            resp.message().contains("archived"),
            "{path}: {}",
            resp.message()
        );
    }
    // Still readable.
    let download = format!("/v1/binaries/{}/download", bin["id"].as_str().expect("id"));
    let response = api
        .request(Method::GET, &download)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(api.get("/v1/products/p/bundles/b").await.status, 200);
}

#[tokio::test]
async fn binaries_outside_a_scoped_keys_products_look_missing() {
    let api = api();
    api.product("mine").await;
    api.product("theirs").await;
    let theirs = upload(&api, "theirs", "1.0", &[4; 4]).await;
    let id = theirs["id"].as_str().expect("id");
    let (scoped, _) = key(&api, "scoped", "write", Some(&["mine"])).await;
    for path in [
        format!("/v1/binaries/{id}"),
        format!("/v1/binaries/{id}/download"),
        format!("/v1/binaries/{id}/parts"),
    ] {
        call(&api, &scoped, Method::GET, &path, None)
            .await
            .assert_error(404, "not_found");
    }
    let list = call(&api, &scoped, Method::GET, "/v1/binaries", None).await;
    assert_eq!(list.body["data"], json!([]));
    let all = api.get("/v1/binaries").await;
    assert_eq!(all.body["data"].as_array().map(Vec::len), Some(1));
}
