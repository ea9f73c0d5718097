//! Products: CRUD, lookup by name or ID, uniqueness, validation, archive, delete rules, If-Match.

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;

#[tokio::test]
async fn create_show_update_by_name_or_id() {
    let api = Api::start();
    let created = api
        .post(
            "/v1/products",
            json!({"name": "indoor-sensor", "description": "CO2 sensor", "tags": ["site:berlin", "hw:v2", "hw:v2"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("prd_"), "{id}");
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/products/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.body["tags"],
        json!(["hw:v2", "site:berlin"]),
        "sorted, deduplicated"
    );
    assert_eq!(created.body["archived"], json!(false));
    assert_eq!(created.body["device_count"], json!(0));
    assert_eq!(created.body["revision"], json!(1));

    let by_name = api.get("/v1/products/indoor-sensor").await;
    let by_id = api.get(&format!("/v1/products/{id}")).await;
    assert_eq!(by_name.status, 200);
    assert_eq!(by_name.body, created.body);
    assert_eq!(by_id.body, created.body);
    assert_eq!(by_id.header("etag"), Some("\"1\""));

    let renamed = api
        .patch(
            "/v1/products/indoor-sensor",
            json!({"name": "indoor-sensor-v2", "description": "new"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["name"], json!("indoor-sensor-v2"));
    assert_eq!(renamed.body["revision"], json!(2));
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    assert_ne!(renamed.body["updated_at"], created.body["updated_at"]);
    assert_eq!(renamed.body["created_at"], created.body["created_at"]);
    api.get("/v1/products/indoor-sensor")
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        api.get(&format!("/v1/products/{id}")).await.body["name"],
        json!("indoor-sensor-v2")
    );

    let unchanged = api.patch(&format!("/v1/products/{id}"), json!({})).await;
    assert_eq!(
        unchanged.body["revision"],
        json!(2),
        "an empty patch is no change"
    );

    let missing = api
        .get(&format!("/v1/products/prd_{}", "0".repeat(32)))
        .await;
    missing.assert_error(404, "not_found");
}

#[tokio::test]
async fn names_are_unique_and_conflicts_name_the_duplicate() {
    let api = Api::start();
    api.product("gateway").await;
    api.product("other").await;
    let dup = api.post("/v1/products", json!({"name": "gateway"})).await;
    dup.assert_error(409, "conflict");
    assert!(dup.message().contains("`gateway`"), "{}", dup.message());

    let rename = api
        .patch("/v1/products/other", json!({"name": "gateway"}))
        .await;
    rename.assert_error(409, "conflict");
    assert!(
        rename.message().contains("`gateway`"),
        "{}",
        rename.message()
    );
    assert_eq!(
        api.names("/v1/products", "name").await,
        ["gateway", "other"]
    );
}

#[tokio::test]
async fn invalid_names_are_rejected_with_fields() {
    let api = Api::start();
    let id_shaped = format!("prd_{}", "a".repeat(32));
    for bad in ["", &"a".repeat(65), "Indoor", "has space", &id_shaped] {
        let resp = api.post("/v1/products", json!({"name": bad})).await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(
            resp.body["fields"][0]["field"],
            json!("name"),
            "{bad:?}: {}",
            resp.body
        );
    }
    let both = api
        .post("/v1/products", json!({"name": "", "tags": ["nocolon"]}))
        .await;
    both.assert_error(422, "validation_failed");
    assert_eq!(
        both.body["fields"].as_array().map(Vec::len),
        Some(2),
        "{}",
        both.body
    );
    api.product("ok").await;
    let patch = api
        .patch("/v1/products/ok", json!({"name": "Not OK"}))
        .await;
    patch.assert_error(422, "validation_failed");
    assert_eq!(api.names("/v1/products?state=all", "name").await, ["ok"]);
}

#[tokio::test]
async fn archived_products_take_no_new_devices_or_cohorts() {
    let api = Api::start();
    api.product("legacy").await;
    api.cohort("legacy", "beta").await;
    let archived = api
        .patch("/v1/products/legacy", json!({"archived": true}))
        .await;
    assert_eq!(archived.body["archived"], json!(true));

    let device = api
        .post(
            "/v1/devices",
            json!({"identifier": "sn-1", "product": "legacy"}),
        )
        .await;
    device.assert_error(409, "conflict");
    assert!(
        device.message().contains("archived"),
        "{}",
        device.message()
    );
    assert!(
        device.body["hint"]
            .as_str()
            .is_some_and(|h| h.contains("unarchive"))
    );
    let cohort = api
        .post("/v1/products/legacy/cohorts", json!({"name": "gamma"}))
        .await;
    cohort.assert_error(409, "conflict");

    // Still readable, listed only with state=archived or all.
    assert_eq!(api.get("/v1/products/legacy").await.status, 200);
    assert!(api.names("/v1/products", "name").await.is_empty());
    assert_eq!(
        api.names("/v1/products?state=archived", "name").await,
        ["legacy"]
    );
    assert_eq!(
        api.names("/v1/products?state=all", "name").await,
        ["legacy"]
    );

    api.patch("/v1/products/legacy", json!({"archived": false}))
        .await;
    api.device(json!({"identifier": "sn-1", "product": "legacy"}))
        .await;
}

#[tokio::test]
async fn delete_is_refused_while_devices_remain() {
    let api = Api::start();
    api.product("busy").await;
    for n in 0..3 {
        api.device(json!({"identifier": format!("sn-{n}"), "product": "busy"}))
            .await;
    }
    let refused = api.delete("/v1/products/busy").await;
    refused.assert_error(409, "conflict");
    assert!(
        refused.message().contains("3 devices"),
        "{}",
        refused.message()
    );
    assert!(
        refused.body["hint"]
            .as_str()
            .is_some_and(|h| h.contains("move") || h.contains("delete"))
    );
    assert_eq!(
        api.get("/v1/products/busy").await.body["device_count"],
        json!(3)
    );
}

#[tokio::test]
async fn deleting_an_empty_product_deletes_its_cohorts() {
    let api = Api::start();
    api.product("empty").await;
    api.cohort("empty", "alpha").await;
    api.cohort("empty", "beta").await;
    api.product("keep").await;
    api.cohort("keep", "alpha").await;
    let deleted = api.delete("/v1/products/empty").await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, serde_json::Value::Null);
    api.get("/v1/products/empty")
        .await
        .assert_error(404, "not_found");
    let cohorts = api.get("/v1/cohorts").await;
    let products: Vec<_> = cohorts.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["product"].clone())
        .collect();
    assert_eq!(products, [json!("keep")]);
    // The name is free again.
    api.product("empty").await;
}

#[tokio::test]
async fn if_match_guards_updates_and_deletes() {
    let api = Api::start();
    api.product("guarded").await;
    let stale = api
        .send(
            api.request(Method::PATCH, "/v1/products/guarded")
                .header("if-match", "\"7\"")
                .json(&json!({"description": "x"})),
        )
        .await;
    stale.assert_error(412, "precondition_failed");
    assert_eq!(
        api.get("/v1/products/guarded").await.body["description"],
        json!("")
    );

    let fresh = api
        .send(
            api.request(Method::PATCH, "/v1/products/guarded")
                .header("if-match", "\"1\"")
                .json(&json!({"description": "x"})),
        )
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.header("etag"), Some("\"2\""));

    let stale_delete = api
        .send(
            api.request(Method::DELETE, "/v1/products/guarded")
                .header("if-match", "\"1\""),
        )
        .await;
    stale_delete.assert_error(412, "precondition_failed");
    let garbage = api
        .send(
            api.request(Method::DELETE, "/v1/products/guarded")
                .header("if-match", "two"),
        )
        .await;
    garbage.assert_error(400, "bad_request");
    assert_eq!(api.get("/v1/products/guarded").await.status, 200);
    let delete = api
        .send(
            api.request(Method::DELETE, "/v1/products/guarded")
                .header("if-match", "\"2\""),
        )
        .await;
    assert_eq!(delete.status, 204);
}

#[tokio::test]
async fn list_filters_by_tag_with_and_semantics() {
    let api = Api::start();
    api.post(
        "/v1/products",
        json!({"name": "a", "tags": ["site:berlin", "tier:gold"]}),
    )
    .await;
    api.post(
        "/v1/products",
        json!({"name": "b", "tags": ["site:berlin"]}),
    )
    .await;
    api.post(
        "/v1/products",
        json!({"name": "c", "tags": ["site:Berlin"]}),
    )
    .await;
    assert_eq!(
        api.names("/v1/products?tag=site:berlin", "name").await,
        ["a", "b"]
    );
    assert_eq!(
        api.names("/v1/products?tag=site:berlin&tag=tier:gold", "name")
            .await,
        ["a"]
    );
    assert_eq!(
        api.names("/v1/products?tag=site:Berlin", "name").await,
        ["c"],
        "case-sensitive"
    );
    assert_eq!(
        api.names("/v1/products?tag=site:b_rlin", "name").await,
        Vec::<String>::new()
    );
    api.get("/v1/products?tag=nocolon")
        .await
        .assert_error(422, "validation_failed");
    api.get("/v1/products?state=frozen")
        .await
        .assert_error(400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_make_one_product_and_conflicts() {
    let api = Api::start();
    let attempts = (0..12).map(|_| api.post("/v1/products", json!({"name": "race"})));
    let results = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 409), "{statuses:?}");
    assert_eq!(api.names("/v1/products", "name").await, ["race"]);
}
