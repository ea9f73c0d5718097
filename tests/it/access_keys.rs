//! API key lifecycle over HTTP: revoked and expired keys fail at once, scoped admins manage
//! only keys within their products, secrets are shown once, whoami reports the key.

use reqwest::Method;
use serde_json::json;

use crate::access_support::{call, key};
use crate::api_support::Api;

#[tokio::test]
async fn a_revoked_key_fails_on_the_very_next_request() {
    let api = Api::start();
    let (secret, id) = key(&api, "ci", "write", None).await;
    assert_eq!(
        call(&api, &secret, Method::GET, "/v1/products", None)
            .await
            .status,
        200
    );
    let revoked = api
        .post(&format!("/v1/api-keys/{id}/revoke"), json!({}))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    let after = call(&api, &secret, Method::GET, "/v1/products", None).await;
    after.assert_error(401, "unauthorized");
    assert!(after.message().contains("revoked"), "{}", after.message());
    // Revoking again is not an error and keeps the first time.
    let again = api
        .post(&format!("/v1/api-keys/{id}/revoke"), json!({}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["revoked_at"], revoked.body["revoked_at"]);
    // Revoked keys leave the default list but stay listable.
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|k| k["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert!(!ids(&api.get("/v1/api-keys").await.body).contains(&id));
    assert!(ids(&api.get("/v1/api-keys?revoked=true").await.body).contains(&id));
}

#[tokio::test]
async fn an_expired_key_fails_and_expiry_must_be_in_the_future() {
    let api = Api::start();
    let past = api
        .post(
            "/v1/api-keys",
            json!({ "name": "old", "role": "read", "expires_at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    past.assert_error(422, "validation_failed");

    let later = chrono::Utc::now() + chrono::TimeDelta::days(1);
    let resp = api
        .post(
            "/v1/api-keys",
            json!({ "name": "soon", "role": "read", "expires_at": later }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let secret = resp.body["secret"].as_str().expect("secret").to_owned();
    let id = resp.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        call(&api, &secret, Method::GET, "/v1/whoami", None)
            .await
            .status,
        200
    );

    // Let the clock pass the expiry: move it into the past in the database itself. The cached
    // key must not outlive the edit: the database bumps the key epoch, no service is told.
    crate::access_shared::expire_by_hand(&api.server.storage, &id).await;
    let expired = call(&api, &secret, Method::GET, "/v1/whoami", None).await;
    expired.assert_error(401, "unauthorized");
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );
}

#[tokio::test]
async fn keys_are_shown_once_and_recognisable_by_prefix() {
    let api = Api::start();
    let resp = api
        .post("/v1/api-keys", json!({ "name": "ci", "role": "write" }))
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let secret = resp.body["secret"].as_str().expect("secret");
    let prefix = resp.body["prefix"].as_str().expect("prefix");
    assert!(secret.starts_with("fleet_") && secret.len() > 40);
    assert_eq!(prefix, &secret[..14]);
    let shown = api.get(&format!("/v1/api-keys/{prefix}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["id"], resp.body["id"]);
    let text = format!("{}{}", shown.body, api.get("/v1/api-keys").await.body);
    assert!(!text.contains(secret), "a listing showed the secret");
    assert!(shown.body.get("secret").is_none());
}

#[tokio::test]
async fn a_scoped_admin_manages_only_keys_within_its_products() {
    let api = Api::start();
    api.product("a").await;
    api.product("b").await;
    let (admin_a, _) = key(&api, "admin-a", "admin", Some(&["a"])).await;
    let (_, org_wide) = key(&api, "org-reader", "read", None).await;
    let (_, other) = key(&api, "b-reader", "read", Some(&["b"])).await;

    let post = |body| call(&api, &admin_a, Method::POST, "/v1/api-keys", Some(body));
    post(json!({ "name": "x", "role": "read" }))
        .await
        .assert_error(403, "forbidden");
    post(json!({ "name": "x", "role": "read", "products": ["b"] }))
        .await
        .assert_error(403, "forbidden");
    post(json!({ "name": "x", "role": "read", "products": ["a", "b"] }))
        .await
        .assert_error(403, "forbidden");
    post(json!({ "name": "x", "role": "read", "products": ["nosuch"] }))
        .await
        .assert_error(403, "forbidden");
    let made = post(json!({ "name": "a-reader", "role": "read", "products": ["a"] })).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["products"][0]["name"], "a");
    let made_id = made.body["id"].as_str().expect("id").to_owned();

    let list = call(&api, &admin_a, Method::GET, "/v1/api-keys", None).await;
    let names: Vec<&str> = list.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["admin-a", "a-reader"]);
    for hidden in [&org_wide, &other] {
        call(
            &api,
            &admin_a,
            Method::GET,
            &format!("/v1/api-keys/{hidden}"),
            None,
        )
        .await
        .assert_error(404, "not_found");
        call(
            &api,
            &admin_a,
            Method::POST,
            &format!("/v1/api-keys/{hidden}/revoke"),
            None,
        )
        .await
        .assert_error(404, "not_found");
    }
    let revoked = call(
        &api,
        &admin_a,
        Method::POST,
        &format!("/v1/api-keys/{made_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    // The org admin sees all of them.
    assert_eq!(api.get(&format!("/v1/api-keys/{other}")).await.status, 200);
}

#[tokio::test]
async fn whoami_reports_name_role_scope_and_org() {
    let api = Api::start();
    let me = api.get("/v1/whoami").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["key_name"], "admin");
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["products"], serde_json::Value::Null);
    assert_eq!(me.body["org_name"], "default");
    api.product("a").await;
    let (scoped, id) = key(&api, "support", "read", Some(&["a"])).await;
    let me = call(&api, &scoped, Method::GET, "/v1/whoami", None).await;
    assert_eq!(me.body["key_id"], id.as_str());
    assert_eq!(me.body["role"], "read");
    assert_eq!(me.body["products"][0]["name"], "a");
}

#[tokio::test]
async fn a_deleted_scope_product_never_widens_a_key() {
    let api = Api::start();
    api.product("gone").await;
    api.product("other").await;
    let (scoped, _) = key(&api, "s", "read", Some(&["gone"])).await;
    assert_eq!(api.delete("/v1/products/gone").await.status, 204);
    let list = call(&api, &scoped, Method::GET, "/v1/products?state=all", None).await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body["data"],
        json!([]),
        "a key whose products are gone sees nothing"
    );
}
