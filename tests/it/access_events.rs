//! The audit log: every write and every refused attempt is recorded; filters and paging work;
//! the log cannot be written through the API.

use reqwest::Method;
use serde_json::json;

use crate::access_support::{call, events, key};
use crate::api_support::Api;

fn actions(events: &[serde_json::Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect()
}

#[tokio::test]
async fn writes_record_events_with_key_resource_and_product() {
    let api = Api::start();
    let product = api.product("p").await;
    let pid = product["id"].as_str().expect("id");
    api.cohort("p", "beta").await;
    let device = api
        .device(json!({ "identifier": "sn-1", "product": "p" }))
        .await;
    let did = device["id"].as_str().expect("id");
    assert_eq!(
        api.patch("/v1/devices/sn-1", json!({ "cohort": "beta" }))
            .await
            .status,
        200
    );
    assert_eq!(api.delete("/v1/devices/sn-1").await.status, 204);
    for change in [
        json!({ "archived": true }),
        json!({ "archived": false }),
        json!({ "description": "kept" }),
    ] {
        assert_eq!(api.patch("/v1/products/p", change).await.status, 200);
    }

    let all = events(&api, &format!("product={pid}")).await;
    assert_eq!(
        actions(&all),
        [
            "product.created",
            "cohort.created",
            "device.created",
            "device.updated",
            "device.deleted",
            "product.archived",
            "product.unarchived",
            "product.updated"
        ]
    );
    for event in &all {
        assert_eq!(event["key_name"], "admin");
        assert!(
            event["key_id"]
                .as_str()
                .is_some_and(|k| k.starts_with("key_"))
        );
        assert_eq!(event["result"], "ok");
        assert_eq!(event["product_id"], pid);
    }
    assert_eq!(
        actions(&events(&api, &format!("resource={did}")).await),
        ["device.created", "device.updated", "device.deleted"]
    );
    assert_eq!(
        actions(&events(&api, "action=device.*").await),
        ["device.created", "device.updated", "device.deleted"]
    );
    assert_eq!(events(&api, "action=device.created").await.len(), 1);
    assert_eq!(
        events(&api, "key=admin&action=product.created").await.len(),
        1
    );
    // A refused write records nothing but its denial.
    let dup = api.post("/v1/products", json!({ "name": "p" })).await;
    assert_eq!(dup.status, 409);
    assert_eq!(events(&api, "action=product.created").await.len(), 1);
}

#[tokio::test]
async fn denied_attempts_are_recorded_and_filtered_by_time_and_page() {
    let api = Api::start();
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    api.product("p").await;
    let (read, read_id) = key(&api, "support", "read", None).await;
    let (out, _) = key(&api, "other", "write", Some(&["p"])).await;
    call(
        &api,
        &read,
        Method::POST,
        "/v1/products",
        Some(json!({ "name": "x" })),
    )
    .await
    .assert_error(403, "forbidden");
    call(
        &api,
        &out,
        Method::POST,
        "/v1/products",
        Some(json!({ "name": "y" })),
    )
    .await
    .assert_error(403, "forbidden");
    let (revoked, revoked_id) = key(&api, "gone", "write", None).await;
    api.post(&format!("/v1/api-keys/{revoked_id}/revoke"), json!({}))
        .await;
    call(&api, &revoked, Method::GET, "/v1/products", None)
        .await
        .assert_error(401, "unauthorized");

    let denied = events(&api, "action=auth.denied").await;
    assert_eq!(denied.len(), 3, "{denied:?}");
    assert_eq!(denied[0]["key_id"], read_id.as_str());
    assert_eq!(denied[0]["result"], "denied");
    assert_eq!(denied[0]["details"]["status"], 403);
    assert_eq!(denied[0]["details"]["path"], "/v1/products");
    assert_eq!(denied[2]["details"]["reason"], "revoked");
    assert_eq!(
        events(&api, &format!("key={read_id}&action=auth.denied"))
            .await
            .len(),
        1
    );

    let since = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let in_range = events(&api, &format!("since={}", urlencode(&since))).await;
    assert!(in_range.len() >= 6, "{in_range:?}");
    let until = events(&api, &format!("until={}", urlencode(&since))).await;
    assert!(until.is_empty(), "{until:?}");

    // Cursor paging walks every event once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/events?limit=2&cursor={c}"),
            None => "/v1/events?limit=2".to_owned(),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for e in page.body["data"].as_array().expect("data") {
            seen.push(e["id"].as_str().expect("id").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all: Vec<String> = events(&api, "limit=1000")
        .await
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(seen, all);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn the_log_is_append_only_and_scoped() {
    let api = Api::start();
    api.product("a").await;
    api.product("b").await;
    for method in [Method::POST, Method::PATCH, Method::DELETE, Method::PUT] {
        let resp = api
            .send(api.request(method.clone(), "/v1/events").json(&json!({})))
            .await;
        resp.assert_error(405, "method_not_allowed");
    }
    let (scoped, _) = key(&api, "a-reader", "read", Some(&["a"])).await;
    let seen = call(&api, &scoped, Method::GET, "/v1/events", None).await;
    let names: Vec<&str> = seen.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["details"]["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["a"], "a scoped key sees only its products' events");
    call(&api, &scoped, Method::GET, "/v1/events?product=b", None)
        .await
        .assert_error(404, "not_found");
}
