//! Keyset pagination: every item exactly once, in creation order; limits and cursors checked.

use std::collections::HashSet;

use crate::api_support::Api;

#[tokio::test]
async fn walking_2500_devices_returns_each_once_in_order() {
    let api = Api::start();
    api.product("bulk").await;
    api.server.seed_devices("bulk", "sn", 2500);

    let mut seen = Vec::new();
    let mut path = "/v1/devices?limit=1000".to_owned();
    let mut pages = 0;
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        let data = page.body["data"].as_array().expect("data");
        seen.extend(data.iter().map(|d| {
            (
                d["id"].as_str().expect("id").to_owned(),
                d["identifier"].as_str().expect("identifier").to_owned(),
            )
        }));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/devices?limit=1000&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2500);
    let unique: HashSet<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(unique.len(), 2500, "duplicates across pages");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "not in ID order");
    // Seeded in identifier order, so creation order is identifier order.
    let expected: Vec<String> = (0..2500).map(|n| format!("sn-{n:06}")).collect();
    let identifiers: Vec<String> = seen.into_iter().map(|(_, identifier)| identifier).collect();
    assert_eq!(identifiers, expected);
    assert_eq!(
        api.get("/v1/products/bulk").await.body["device_count"],
        serde_json::json!(2500)
    );
}

#[tokio::test]
async fn an_exact_page_ends_with_a_null_cursor() {
    let api = Api::start();
    for name in ["a", "b", "c", "d"] {
        api.product(name).await;
    }
    let first = api.get("/v1/products?limit=2").await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a second page exists");
    let second = api
        .get(&format!("/v1/products?limit=2&cursor={cursor}"))
        .await;
    let names: Vec<_> = second.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [serde_json::json!("c"), serde_json::json!("d")]);
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(
        api.get("/v1/products?limit=4").await.body["next_cursor"],
        serde_json::Value::Null
    );
    assert_eq!(
        api.names("/v1/products", "name").await.len(),
        4,
        "default limit covers 4"
    );
}

#[tokio::test]
async fn limits_and_cursors_are_validated() {
    let api = Api::start();
    api.product("p").await;
    for path in [
        "/v1/devices?limit=0",
        "/v1/devices?limit=1001",
        "/v1/products?limit=0",
        "/v1/cohorts?limit=1001",
    ] {
        let resp = api.get(path).await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(
            resp.body["fields"][0]["field"],
            serde_json::json!("limit"),
            "{path}"
        );
    }
    assert_eq!(api.get("/v1/devices?limit=1000").await.status, 200);
    api.get("/v1/devices?limit=-1")
        .await
        .assert_error(400, "bad_request");
    api.get("/v1/devices?limit=ten")
        .await
        .assert_error(400, "bad_request");
    // A parameter named without a value is malformed, not absent (a fuzz finding).
    for path in [
        "/v1/devices?limit=",
        "/v1/products?limit",
        "/v1/devices?product=",
        "/v1/devices?tag=a:b&tag=",
        "/v1/events?limit=10&cursor=",
    ] {
        let response = api.get(path).await;
        response.assert_error(400, "bad_request");
        assert!(
            response.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("has no value")),
            "{path}: {}",
            response.body
        );
    }
    for cursor in ["garbage!", "Z2FyYmFnZQ", ""] {
        api.get(&format!("/v1/devices?cursor={cursor}"))
            .await
            .assert_error(400, "bad_request");
    }
    // A product cursor is not a device cursor.
    api.product("q").await;
    let cursor = api.get("/v1/products?limit=1").await.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    assert_eq!(
        api.get(&format!("/v1/products?cursor={cursor}"))
            .await
            .status,
        200
    );
    api.get(&format!("/v1/devices?cursor={cursor}"))
        .await
        .assert_error(400, "bad_request");
}

/// The cursor is the ID of the last item seen; any well-formed ID of the listed type is served,
/// even one that names nothing, so the OpenAPI pattern is exactly what the service accepts.
#[tokio::test]
async fn any_well_formed_id_is_a_cursor() {
    let api = Api::start();
    for name in ["p1", "p2", "p3"] {
        api.product(name).await;
    }
    let first = api.get("/v1/products?limit=1").await;
    let first_id = first.body["data"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(first.body["next_cursor"], first_id.as_str());
    let rest = api.get(&format!("/v1/products?cursor={first_id}")).await;
    assert_eq!(rest.status, 200);
    assert_eq!(rest.body["data"].as_array().expect("data").len(), 2);
    let none_after = format!("prd_{}", "f".repeat(32));
    let empty = api.get(&format!("/v1/products?cursor={none_after}")).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body["data"], serde_json::json!([]));
    let all = api
        .get(&format!("/v1/products?cursor=prd_{}", "0".repeat(32)))
        .await;
    assert_eq!(all.body["data"].as_array().expect("data").len(), 3);
}
