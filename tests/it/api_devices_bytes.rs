//! A device page is built inside the database as JSON text, on either backend: byte for byte it
//! is the text the service writes for each device alone (`serde_json`, compact, keys in order,
//! strings escaped alike, timestamps as chrono writes them with 0, 3 or 6 fraction digits).

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;
use crate::bulk_support::execute;

async fn text(api: &Api, path: &str) -> String {
    let response = api
        .request(Method::GET, path)
        .send()
        .await
        .expect("send the request");
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.expect("read the body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_page_is_the_single_device_texts_joined() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    api.cohort("sensor", "beta").await;
    api.device(json!({"identifier": "plain", "product": "sensor"}))
        .await;
    api.device(json!({
        "identifier": "rich", "product": "sensor", "cohort": "beta",
        "tags": ["site:berlin", "a/b:c=d"], "target": "aarch64-unknown-linux-gnu",
        "description": "quote \" back\\slash\ttab\nnewline ünïcode 🚀 </script>"
    }))
    .await;
    api.device(json!({"identifier": "quarantined", "product": "sensor"}))
        .await;
    let quarantined = api
        .patch("/v1/devices/quarantined", json!({"quarantined": true}))
        .await;
    assert_eq!(quarantined.status, 200, "{}", quarantined.body);
    api.device(json!({"identifier": "moved", "product": "sensor"}))
        .await;
    let moved = api
        .post(
            "/v1/bulk/move",
            json!({"selection": {"devices": ["moved"]}, "to_product": "gateway"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    // Times with no fraction, a millisecond one and a microsecond one, in the form the store
    // writes them on either backend.
    execute(
        &api.server,
        "UPDATE device_details SET created_at = '2024-01-02T03:04:05+00:00' \
         WHERE identifier = 'plain'",
    );
    execute(
        &api.server,
        "UPDATE devices SET updated_at = '2024-01-02T03:04:05.120+00:00' \
         WHERE id = (SELECT device_id FROM device_details WHERE identifier = 'plain')",
    );
    execute(
        &api.server,
        "UPDATE device_details SET created_at = '2024-01-02T03:04:05.000123+00:00' \
         WHERE identifier = 'rich'",
    );
    execute(
        &api.server,
        "UPDATE devices SET updated_at = '2024-01-02T03:04:05.100200+00:00' \
         WHERE id = (SELECT device_id FROM device_details WHERE identifier = 'rich')",
    );

    let page = text(&api, "/v1/devices?limit=1000").await;
    let listed: serde_json::Value = serde_json::from_str(&page).expect("the page is JSON");
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|device| device["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 4, "{page}");
    let mut singles = Vec::new();
    for id in &ids {
        singles.push(text(&api, &format!("/v1/devices/{id}")).await);
    }
    let expected = format!("{{\"data\":[{}],\"next_cursor\":null}}", singles.join(","));
    assert_eq!(page, expected);
    assert!(
        page.contains("\"created_at\":\"2024-01-02T03:04:05Z\""),
        "{page}"
    );
    assert!(
        page.contains("\"updated_at\":\"2024-01-02T03:04:05.120Z\""),
        "{page}"
    );
    assert!(
        page.contains("\"created_at\":\"2024-01-02T03:04:05.000123Z\""),
        "{page}"
    );
    assert!(
        page.contains("\"updated_at\":\"2024-01-02T03:04:05.100200Z\""),
        "{page}"
    );
}
