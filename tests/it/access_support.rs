//! Helpers for the `access_*` tests: API keys with roles and scopes, requests made with them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api_support::{Api, Resp};

/// Creates a key with `role`, scoped to `products` when given, and returns (secret, id).
pub async fn key(api: &Api, name: &str, role: &str, products: Option<&[&str]>) -> (String, String) {
    let mut body = json!({ "name": name, "role": role });
    if let Some(products) = products {
        body["products"] = json!(products);
    }
    let resp = api.post("/v1/api-keys", body).await;
    assert_eq!(resp.status, 201, "create key `{name}`: {}", resp.body);
    (
        resp.body["secret"].as_str().expect("secret").to_owned(),
        resp.body["id"].as_str().expect("id").to_owned(),
    )
}

/// Sends `method path` with `secret` (and a JSON body when given).
pub async fn call(
    api: &Api,
    secret: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut request = api.anonymous(method, path).bearer_auth(secret);
    if let Some(body) = body {
        request = request.json(&body);
    }
    api.send(request).await
}

/// The events matching `query` (e.g. `action=auth.denied`), as the admin sees them.
pub async fn events(api: &Api, query: &str) -> Vec<Value> {
    let resp = api.get(&format!("/v1/events?{query}")).await;
    assert_eq!(resp.status, 200, "events {query}: {}", resp.body);
    resp.body["data"].as_array().expect("data").clone()
}
