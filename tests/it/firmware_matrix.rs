//! The firmware part of the access matrix (`access_matrix`): per-cell firmware of the target
//! product, and the concrete path and body for each firmware route.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::api_support::{Api, Resp};

/// A ready empty binary (`ready`), a one-part upload in progress (`uploading`, content `ab`),
/// a signing key, a bundle of `ready` and a release of it to the cohort.
pub struct FwFixture {
    ready: String,
    uploading: String,
    key_name: String,
    key: ed25519_dalek::SigningKey,
    bundle: String,
    release: String,
}

pub fn is_firmware(route: &str) -> bool {
    [
        "/artifacts",
        "/firmware-policy",
        "/bundles",
        "/releases",
        "/v1/binaries",
        "/v1/signing-keys",
    ]
    .iter()
    .any(|part| route.contains(part))
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key_for(seed: &str) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&Sha256::digest(seed.as_bytes()).into())
}

async fn ok(resp: Resp, what: &str) -> Value {
    assert!(
        resp.status == 200 || resp.status == 201,
        "{what}: {}",
        resp.body
    );
    resp.body
}

pub async fn fixture(api: &Api, n: usize, product: &str, cohort: &str) -> FwFixture {
    let base = format!("/v1/products/{product}/artifacts");
    ok(api.post(&base, json!({ "name": "app" })).await, "artifact").await;
    ok(
        api.post(&format!("{base}/app/versions"), json!({ "version": "1.0" }))
            .await,
        "version",
    )
    .await;
    let binaries = format!("{base}/app/versions/1.0/binaries");
    let empty = json!({ "target": "t0", "size": 0, "sha256": hex(b"") });
    let ready = ok(api.post(&binaries, empty).await, "binary").await;
    let ready = ready["binary"]["id"].as_str().expect("id").to_owned();
    ok(
        api.post(&format!("/v1/binaries/{ready}/complete"), json!({}))
            .await,
        "complete",
    )
    .await;
    let two = json!({ "target": "t1", "size": 2, "sha256": hex(b"ab") });
    let uploading = ok(api.post(&binaries, two).await, "upload").await;
    let uploading = uploading["binary"]["id"].as_str().expect("id").to_owned();
    let key_name = format!("sk{n}");
    let key = key_for(&key_name);
    let public = STANDARD.encode(key.verifying_key().as_bytes());
    ok(
        api.post(
            "/v1/signing-keys",
            json!({ "name": key_name, "public_key": public }),
        )
        .await,
        "key",
    )
    .await;
    let bundle = format!("b{n}");
    let body = json!({ "name": bundle, "binaries": [ready] });
    ok(
        api.post(&format!("/v1/products/{product}/bundles"), body)
            .await,
        "bundle",
    )
    .await;
    // Below 100%, so the matrix can promote it.
    let body = json!({ "cohort": cohort, "bundle": bundle, "rollout_percent": 10 });
    let release = ok(
        api.post(&format!("/v1/products/{product}/releases"), body)
            .await,
        "release",
    )
    .await;
    FwFixture {
        ready,
        uploading,
        key_name,
        key,
        bundle,
        release: release["id"].as_str().expect("id").to_owned(),
    }
}

/// The concrete path and body for a firmware `route`.
pub fn request(
    method: &str,
    route: &str,
    n: usize,
    product: &str,
    cohort: &str,
    fw: &FwFixture,
) -> (String, Option<Value>) {
    // Parts go to the upload in progress, and only an unfinished upload can be abandoned.
    let binary = if route.ends_with("/parts/{number}") || method == "DELETE" {
        &fw.uploading
    } else {
        &fw.ready
    };
    let mut path = route
        .replace("{product}", product)
        .replace("{artifact}", "app")
        .replace("{version}", "1.0")
        .replace("{binary}", binary)
        .replace("{number}", "1")
        .replace("{bundle}", &fw.bundle)
        .replace("{release}", &fw.release)
        .replace("{key}", &fw.key_name);
    if route == "/v1/binaries" {
        path.push_str(&format!("?product={product}"));
    }
    let digest: [u8; 32] = Sha256::digest(b"").into();
    let body = match (method, route) {
        ("GET" | "DELETE", _) => None,
        ("PUT", r) if r.ends_with("/parts/{number}") => None,
        ("PUT", _) => Some(json!({ "require_signed_firmware": false })),
        ("POST", r) if r.ends_with("/artifacts") => Some(json!({ "name": format!("na{n}") })),
        ("POST", r) if r.ends_with("/versions") => Some(json!({ "version": format!("2.{n}") })),
        ("POST", r) if r.ends_with("/binaries") => {
            Some(json!({ "target": format!("nt{n}"), "size": 1, "sha256": hex(b"x") }))
        }
        ("POST", r) if r.ends_with("/bundles") => {
            Some(json!({ "name": format!("nb{n}"), "binaries": [fw.ready] }))
        }
        ("POST", r) if r.ends_with("/releases") => {
            Some(json!({ "cohort": cohort, "bundle": fw.bundle }))
        }
        ("PATCH", _) => Some(json!({ "rollout_percent": 50 })),
        ("POST", r) if r.ends_with("/complete") => Some(json!({})),
        ("POST", r) if r.ends_with("/halt") || r.ends_with("/resume") => None,
        ("POST", r) if r.ends_with("/promote") => Some(json!({ "to_percent": 60 })),
        ("POST", r) if r.ends_with("/signatures") => Some(json!({
            "key": fw.key_name, "signature": STANDARD.encode(fw.key.sign(&digest).to_bytes()),
        })),
        ("POST", "/v1/signing-keys") => {
            let public = STANDARD.encode(key_for(&format!("new{n}")).verifying_key().as_bytes());
            Some(json!({ "name": format!("nsk{n}"), "public_key": public }))
        }
        _ => panic!("no firmware request body for {method} {route}"),
    };
    (path, body)
}

/// `PUT` of part 1 (`ab`) of the fixture's upload with `secret`.
pub async fn put_part(api: &Api, secret: &str, path: &str) -> Resp {
    let request = api
        .anonymous(Method::PUT, path)
        .bearer_auth(secret)
        .header("x-fleet-part-sha256", hex(b"ab"))
        .body(b"ab".to_vec());
    api.send(request).await
}
