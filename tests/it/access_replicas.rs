//! Several `fleet server` replicas on one data dir: a revocation made through one is refused by
//! every other on its very next request, even though each caches the keys it has seen.

use std::net::SocketAddr;

use fleet::server::ServerConfig;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A replica serving `data_dir` on 127.0.0.1:0 in this runtime; dropping the sender stops it.
async fn replica(data_dir: &std::path::Path) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    let mut config = ServerConfig::new(data_dir);
    crate::common::backend::apply(&mut config);
    crate::common::replica::start(config).await
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    addr: SocketAddr,
    path: &str,
    key: &str,
) -> (u16, Value) {
    let resp = client
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(key)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_one_replica_fails_at_once_on_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, admin, _stop_a) = replica(dir.path()).await;
    let admin = admin.expect("the first replica bootstraps the admin key");
    let (b, none, _stop_b) = replica(dir.path()).await;
    assert!(
        none.is_none(),
        "the second replica finds the database ready"
    );
    let client = reqwest::Client::new();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, body) = client
        .post(format!("http://{a}/v1/api-keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "ci", "role": "read" }))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("create key");
    assert_eq!(status, 201);
    let body: Value = body.json().await.expect("json");
    let secret = body["secret"].as_str().expect("secret").to_owned();
    let id = body["id"].as_str().expect("id").to_owned();

    // Both replicas now hold the key in their caches (twice each: the second is a cache hit).
    for addr in [a, b, a, b] {
        assert_eq!(
            send(&client, get.clone(), addr, "/v1/whoami", &secret)
                .await
                .0,
            200
        );
    }
    let revoke = format!("/v1/api-keys/{id}/revoke");
    let (status, body) = send(&client, post.clone(), b, &revoke, &admin).await;
    assert_eq!(status, 200, "{body}");
    for addr in [a, b] {
        let (status, body) = send(&client, get.clone(), addr, "/v1/whoami", &secret).await;
        assert_eq!(
            status, 401,
            "replica {addr} still accepts the revoked key: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("revoked")),
            "{body}"
        );
    }
    // The admin key is unaffected on both.
    for addr in [a, b] {
        assert_eq!(
            send(&client, get.clone(), addr, "/v1/whoami", &admin)
                .await
                .0,
            200
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_created_offline_works_at_once_on_a_running_replica() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _, _stop) = replica(dir.path()).await;
    let client = reqwest::Client::new();
    let offline = fleet::server::create_key_offline(
        crate::common::backend::storage(dir.path()),
        "rescue",
        fleet::api::Role::Admin,
    )
    .await
    .expect("offline key");
    // An unknown key is never cached, so the new one needs no invalidation.
    let (status, body) = send(
        &client,
        reqwest::Method::GET,
        a,
        "/v1/whoami",
        &offline.secret,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key_name"], "rescue");
}
