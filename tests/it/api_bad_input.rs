//! Bad input of every kind gets a 4xx JSON error and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api_support::{Api, Resp};

async fn products(api: &Api) -> Value {
    let resp = api.get("/v1/products?state=all").await;
    assert_eq!(resp.status, 200);
    resp.body
}

/// Sends `request`, checks status and code, and that the product list did not change.
async fn rejected(api: &Api, request: reqwest::RequestBuilder, status: u16, code: &str) -> Resp {
    let before = products(api).await;
    let resp = api.send(request).await;
    resp.assert_error(status, code);
    assert_eq!(
        products(api).await,
        before,
        "a rejected request changed the products"
    );
    resp
}

fn raw_json(api: &Api, method: Method, path: &str, body: &'static str) -> reqwest::RequestBuilder {
    api.request(method, path)
        .header("content-type", "application/json")
        .body(body)
}

#[tokio::test]
async fn malformed_or_mistyped_bodies() {
    let api = Api::start();
    api.product("existing").await;
    let post = |body| raw_json(&api, Method::POST, "/v1/products", body);
    rejected(&api, post("{\"name\": \"x\""), 400, "bad_request").await;
    rejected(&api, post(""), 400, "bad_request").await;
    let unknown = rejected(
        &api,
        post(r#"{"name": "x", "colour": "red"}"#),
        422,
        "validation_failed",
    )
    .await;
    assert!(
        unknown.message().contains("colour"),
        "{}",
        unknown.message()
    );
    let wrong_type = rejected(&api, post(r#"{"name": 42}"#), 422, "validation_failed").await;
    assert!(
        wrong_type.message().contains("name"),
        "{}",
        wrong_type.message()
    );
    rejected(
        &api,
        post(r#"{"description": "no name"}"#),
        422,
        "validation_failed",
    )
    .await;
    rejected(&api, post(r#"["name"]"#), 422, "validation_failed").await;

    let patch = raw_json(
        &api,
        Method::PATCH,
        "/v1/products/existing",
        r#"{"archived": "yes"}"#,
    );
    rejected(&api, patch, 422, "validation_failed").await;
    let patch = raw_json(&api, Method::PATCH, "/v1/products/existing", "{nope");
    rejected(&api, patch, 400, "bad_request").await;
}

#[tokio::test]
async fn wrong_content_type_and_oversized_bodies() {
    let api = Api::start();
    let text = api
        .request(Method::POST, "/v1/products")
        .header("content-type", "text/plain")
        .body(r#"{"name": "x"}"#);
    rejected(&api, text, 415, "unsupported_media_type").await;
    let none = api
        .request(Method::POST, "/v1/products")
        .body(r#"{"name": "x"}"#);
    rejected(&api, none, 415, "unsupported_media_type").await;

    let huge = format!(
        r#"{{"name": "x", "description": "{}"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    let big = api
        .request(Method::POST, "/v1/products")
        .header("content-type", "application/json")
        .body(huge.clone());
    rejected(&api, big, 413, "payload_too_large").await;
    // Same through the idempotency layer, which reads the body itself.
    let big = api
        .request(Method::POST, "/v1/products")
        .header("content-type", "application/json")
        .header("idempotency-key", "big-1")
        .body(huge);
    rejected(&api, big, 413, "payload_too_large").await;

    // Within the limit but over the field rule: 422, not 413.
    let long = api
        .request(Method::POST, "/v1/products")
        .json(&json!({"name": "x", "description": "a".repeat(2000)}));
    rejected(&api, long, 422, "validation_failed").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let api = Api::start();
    rejected(
        &api,
        api.request(Method::GET, "/v1/nothing"),
        404,
        "not_found",
    )
    .await;
    rejected(&api, api.request(Method::GET, "/"), 404, "not_found").await;
    rejected(
        &api,
        api.request(Method::POST, "/v2/products"),
        404,
        "not_found",
    )
    .await;
    let put = rejected(
        &api,
        api.request(Method::PUT, "/v1/products")
            .json(&json!({"name": "x"})),
        405,
        "method_not_allowed",
    )
    .await;
    assert!(
        put.header("allow").is_some_and(|a| a.contains("POST")),
        "{:?}",
        put.headers
    );
    rejected(
        &api,
        api.request(Method::DELETE, "/v1/products"),
        405,
        "method_not_allowed",
    )
    .await;
    rejected(
        &api,
        api.request(Method::POST, "/v1/health"),
        405,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn bad_query_strings_and_ids() {
    let api = Api::start();
    api.product("p").await;
    rejected(
        &api,
        api.request(Method::GET, "/v1/products?limit=%zz"),
        400,
        "bad_request",
    )
    .await;
    rejected(
        &api,
        api.request(Method::GET, "/v1/products?bogus=1"),
        400,
        "bad_request",
    )
    .await;
    let lookalike = format!("/v1/products/prd_{}", "g".repeat(32));
    // Not ID-shaped (g is not hex), so it is a name, and no product has it.
    rejected(&api, api.request(Method::GET, &lookalike), 404, "not_found").await;
    let tags = api
        .request(Method::POST, "/v1/products")
        .json(&json!({"name": "t", "tags": ["x:\"quoted\""]}));
    rejected(&api, tags, 422, "validation_failed").await;
}
