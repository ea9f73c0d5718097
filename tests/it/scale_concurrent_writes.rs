//! Two replicas of one deployment writing at once: a bulk move through one while the other
//! creates devices. Neither fails, and the move is one consistent step: the devices it says it
//! moved are exactly the ones in the target product, and every device created beside it
//! exists once, in one product or the other.

use std::net::SocketAddr;

use fleet::server::ServerConfig;
use serde_json::{Value, json};

use crate::common::{backend, replica};

const SEEDED: usize = 3000;
const CREATED: usize = 30;

async fn post(
    http: &reqwest::Client,
    addr: SocketAddr,
    key: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = http
        .post(format!("http://{addr}{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Every device of `product`, following the cursor.
async fn identifiers(
    http: &reqwest::Client,
    addr: SocketAddr,
    key: &str,
    product: &str,
) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("http://{addr}/v1/devices?product={product}&limit=1000");
        if let Some(after) = &cursor {
            url.push_str(&format!("&cursor={after}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("page");
        for device in page["data"].as_array().expect("data") {
            all.push(
                device["identifier"]
                    .as_str()
                    .expect("identifier")
                    .to_owned(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_move_on_one_replica_while_the_other_creates_devices() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut first = ServerConfig::new(dir.path());
    backend::apply(&mut first);
    let mut second = ServerConfig::new(dir.path());
    backend::apply(&mut second);
    let (a, key, _stop_a) = replica::start(first).await;
    let key = key.expect("a fresh deployment bootstraps a key");
    let (b, _, _stop_b) = replica::start(second).await;
    let http = reqwest::Client::new();
    for name in ["p1", "p2"] {
        let (status, body) = post(&http, a, &key, "/v1/products", json!({ "name": name })).await;
        assert_eq!(status, 201, "{body}");
    }
    let storage = backend::storage(dir.path());
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fleet::server::seed_devices(storage, "p1", "sn", SEEDED))
    })
    .await
    .expect("seeding task")
    .expect("seed devices");

    let moving = {
        let (http, key) = (http.clone(), key.clone());
        tokio::spawn(async move {
            post(
                &http,
                a,
                &key,
                "/v1/bulk/move",
                json!({ "selection": { "product": "p1" }, "to_product": "p2" }),
            )
            .await
        })
    };
    for i in 0..CREATED {
        let body = json!({ "identifier": format!("new-{i:03}"), "product": "p1" });
        let (status, answer) = post(&http, b, &key, "/v1/devices", body).await;
        assert_eq!(status, 201, "a create beside the move succeeds: {answer}");
    }
    let (status, moved) = moving.await.expect("move task");
    assert_eq!(status, 200, "{moved}");

    let in_p1 = identifiers(&http, b, &key, "p1").await;
    let in_p2 = identifiers(&http, b, &key, "p2").await;
    assert_eq!(
        moved["changed"].as_u64(),
        Some(in_p2.len() as u64),
        "the move changed exactly the devices now in p2"
    );
    assert!(
        in_p2.len() >= SEEDED,
        "every seeded device moved: {}",
        in_p2.len()
    );
    assert!(in_p1.iter().all(|id| id.starts_with("new-")), "{in_p1:?}");
    let mut all: Vec<&String> = in_p1.iter().chain(&in_p2).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), SEEDED + CREATED, "every device exists once");
}
