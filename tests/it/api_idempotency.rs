//! `Idempotency-Key`: a retried write replays the stored response instead of running again.

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;

#[tokio::test]
async fn a_retried_create_replays_without_creating_twice() {
    let api = Api::start();
    let create = |key: &'static str, name: &'static str| {
        api.request(Method::POST, "/v1/products")
            .header("idempotency-key", key)
            .json(&json!({"name": name}))
    };
    let first = api.send(create("k-1", "once")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = api.send(create("k-1", "once")).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body, first.body, "the same object comes back");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(api.names("/v1/products", "name").await, ["once"]);

    // Same key, different request: refused, nothing created.
    let other = api.send(create("k-1", "twice")).await;
    other.assert_error(422, "validation_failed");
    assert_eq!(api.names("/v1/products", "name").await, ["once"]);

    // A new key is a new request: a real conflict now.
    api.send(create("k-2", "once"))
        .await
        .assert_error(409, "conflict");
}

#[tokio::test]
async fn keys_are_per_organization_request_and_method() {
    let api = Api::start();
    api.product("p").await;
    let patch = |desc: &'static str| {
        api.request(Method::PATCH, "/v1/products/p")
            .header("idempotency-key", "same")
            .json(&json!({"description": desc}))
    };
    let first = api.send(patch("one")).await;
    assert_eq!(first.body["revision"], json!(2));
    let replay = api.send(patch("one")).await;
    assert_eq!(replay.body["revision"], json!(2), "not applied twice");
    assert_eq!(api.get("/v1/products/p").await.body["revision"], json!(2));
    let delete = api
        .send(
            api.request(Method::DELETE, "/v1/products/p")
                .header("idempotency-key", "same"),
        )
        .await;
    delete.assert_error(422, "validation_failed");
    // Reads ignore the header.
    let read = api
        .send(
            api.request(Method::GET, "/v1/products/p")
                .header("idempotency-key", "same"),
        )
        .await;
    assert_eq!(read.status, 200);
}
