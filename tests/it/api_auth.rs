//! Authentication: every route but health and the OpenAPI document needs a known key.

use reqwest::Method;

use crate::api_support::Api;

#[tokio::test]
async fn missing_or_unknown_keys_are_rejected_with_json() {
    let api = Api::start();
    let missing = api.send(api.anonymous(Method::GET, "/v1/products")).await;
    missing.assert_error(401, "unauthorized");
    assert!(
        missing.message().contains("missing"),
        "{}",
        missing.message()
    );
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let wrong = api
        .send(
            api.anonymous(Method::GET, "/v1/devices")
                .bearer_auth("fleet_not-a-real-key"),
        )
        .await;
    wrong.assert_error(401, "unauthorized");
    assert!(wrong.message().contains("unknown"), "{}", wrong.message());

    let not_bearer = api
        .send(
            api.anonymous(Method::GET, "/v1/products")
                .header("authorization", format!("Basic {}", api.server.api_key)),
        )
        .await;
    not_bearer.assert_error(401, "unauthorized");

    // A write without a key changes nothing.
    let post = api
        .send(
            api.anonymous(Method::POST, "/v1/products")
                .json(&serde_json::json!({"name": "sneaky"})),
        )
        .await;
    post.assert_error(401, "unauthorized");
    assert_eq!(
        api.names("/v1/products?state=all", "name").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn health_and_openapi_need_no_key() {
    let api = Api::start();
    let health = api.send(api.anonymous(Method::GET, "/v1/health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, serde_json::json!({"status": "ok"}));
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
}

#[tokio::test]
async fn the_admin_key_works() {
    let api = Api::start();
    let resp = api.get("/v1/products").await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.body,
        serde_json::json!({"data": [], "next_cursor": null})
    );
}
