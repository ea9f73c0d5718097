//! Devices: CRUD, identifier uniqueness, lookup by identifier or ID, list filters.

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;

#[tokio::test]
async fn device_crud_by_identifier_or_id() {
    let api = Api::start();
    api.product("sensor").await;
    api.cohort("sensor", "beta").await;
    let created = api
        .post(
            "/v1/devices",
            json!({"identifier": "SN:00:42", "product": "sensor", "cohort": "beta",
                   "tags": ["site:berlin"], "target": "aarch64-unknown-linux-gnu", "description": "lab"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("dev_"));
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/devices/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["product"], json!("sensor"));
    assert_eq!(created.body["cohort"], json!("beta"));
    assert_eq!(created.body["quarantined"], json!(false));

    assert_eq!(api.get("/v1/devices/SN:00:42").await.body, created.body);
    assert_eq!(
        api.get(&format!("/v1/devices/{id}")).await.body,
        created.body
    );

    let updated = api
        .patch(
            "/v1/devices/SN:00:42",
            json!({"cohort": null, "add_tags": ["tier:gold"], "remove_tags": ["site:berlin"],
                   "target": null, "quarantined": true}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["cohort"], json!(null));
    assert_eq!(updated.body["tags"], json!(["tier:gold"]));
    assert_eq!(updated.body["target"], json!(null));
    assert_eq!(updated.body["quarantined"], json!(true));
    assert_eq!(updated.body["revision"], json!(2));
    assert_eq!(updated.header("etag"), Some("\"2\""));

    let recohort = api
        .patch(&format!("/v1/devices/{id}"), json!({"cohort": "beta"}))
        .await;
    assert_eq!(recohort.body["cohort"], json!("beta"));

    let stale = api
        .send(
            api.request(Method::DELETE, "/v1/devices/SN:00:42")
                .header("if-match", "\"1\""),
        )
        .await;
    stale.assert_error(412, "precondition_failed");
    assert_eq!(api.delete("/v1/devices/SN:00:42").await.status, 204);
    api.get("/v1/devices/SN:00:42")
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        api.get("/v1/products/sensor").await.body["device_count"],
        json!(0)
    );
}

#[tokio::test]
async fn identifiers_are_unique_in_the_organization() {
    let api = Api::start();
    api.product("a").await;
    api.product("b").await;
    api.device(json!({"identifier": "sn-1", "product": "a"}))
        .await;
    let dup = api
        .post("/v1/devices", json!({"identifier": "sn-1", "product": "b"}))
        .await;
    dup.assert_error(409, "conflict");
    assert!(dup.message().contains("`sn-1`"), "{}", dup.message());
    let bad = api
        .post("/v1/devices", json!({"identifier": "sn 1", "product": "b"}))
        .await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(bad.body["fields"][0]["field"], json!("identifier"));
    api.post(
        "/v1/devices",
        json!({"identifier": "sn-2", "product": "nope"}),
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(api.names("/v1/devices", "identifier").await, ["sn-1"]);
}

#[tokio::test]
async fn list_filters_combine() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let beta = api.cohort("sensor", "beta").await;
    api.cohort("gateway", "beta").await;
    let devices = [
        json!({"identifier": "s1", "product": "sensor", "cohort": "beta", "tags": ["site:berlin", "tier:gold"], "target": "arm"}),
        json!({"identifier": "s2", "product": "sensor", "tags": ["site:berlin"], "target": "x86"}),
        json!({"identifier": "s3", "product": "sensor", "cohort": "beta", "tags": ["site:paris"]}),
        json!({"identifier": "g1", "product": "gateway", "cohort": "beta", "tags": ["site:berlin", "tier:gold"], "target": "arm"}),
    ];
    for device in devices {
        api.device(device).await;
    }
    api.patch("/v1/devices/s3", json!({"quarantined": true}))
        .await;

    let ids = |path: &'static str| api.names(path, "identifier");
    assert_eq!(ids("/v1/devices").await, ["s1", "s2", "s3", "g1"]);
    assert_eq!(ids("/v1/devices?product=sensor").await, ["s1", "s2", "s3"]);
    assert_eq!(
        ids("/v1/devices?product=sensor&cohort=beta").await,
        ["s1", "s3"]
    );
    assert_eq!(ids("/v1/devices?product=gateway&cohort=beta").await, ["g1"]);
    let beta_id = beta["id"].as_str().expect("id");
    assert_eq!(
        api.names(&format!("/v1/devices?cohort={beta_id}"), "identifier")
            .await,
        ["s1", "s3"]
    );
    assert_eq!(ids("/v1/devices?tag=site:berlin").await, ["s1", "s2", "g1"]);
    assert_eq!(
        ids("/v1/devices?tag=site:berlin&tag=tier:gold").await,
        ["s1", "g1"]
    );
    assert_eq!(
        ids("/v1/devices?tag=site:berlin&product=sensor").await,
        ["s1", "s2"]
    );
    assert_eq!(ids("/v1/devices?target=arm").await, ["s1", "g1"]);
    assert_eq!(ids("/v1/devices?quarantined=true").await, ["s3"]);
    assert_eq!(
        ids("/v1/devices?quarantined=false&product=sensor").await,
        ["s1", "s2"]
    );

    api.get("/v1/devices?cohort=beta")
        .await
        .assert_error(422, "validation_failed");
    api.get("/v1/devices?product=nope")
        .await
        .assert_error(404, "not_found");
    api.get("/v1/devices?product=sensor&cohort=nope")
        .await
        .assert_error(404, "not_found");
    api.get("/v1/devices?quarantined=maybe")
        .await
        .assert_error(400, "bad_request");
    api.get("/v1/devices?colour=red")
        .await
        .assert_error(400, "bad_request");
}

/// The list renders devices in SQL (for speed) while show serializes `api::Device`: every kind
/// of value must come out the same both ways, so a field added to one and not the other fails.
#[tokio::test]
async fn list_items_equal_the_single_device_json() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    api.cohort("sensor", "beta").await;
    let plain = api
        .post(
            "/v1/devices",
            json!({"identifier": "plain", "product": "sensor"}),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    let rich = api
        .post(
            "/v1/devices",
            json!({"identifier": "rich", "product": "sensor", "cohort": "beta",
                   "tags": ["site:berlin", "a/b:c=d"], "target": "aarch64-unknown-linux-gnu",
                   "description": "quote \" back\\slash\ttab\nnewline ünïcode 🚀"}),
        )
        .await;
    assert_eq!(rich.status, 201, "{}", rich.body);
    let quarantined = api
        .post(
            "/v1/devices",
            json!({"identifier": "quarantined", "product": "sensor"}),
        )
        .await;
    assert_eq!(
        api.patch("/v1/devices/quarantined", json!({"quarantined": true}))
            .await
            .status,
        200
    );
    assert_eq!(quarantined.status, 201);
    let moved = api
        .post(
            "/v1/devices",
            json!({"identifier": "moved", "product": "sensor"}),
        )
        .await;
    assert_eq!(moved.status, 201);
    let move_result = api
        .post(
            "/v1/bulk/move",
            json!({"selection": {"devices": ["moved"]}, "to_product": "gateway"}),
        )
        .await;
    assert_eq!(move_result.status, 200, "{}", move_result.body);

    let page = api.get("/v1/devices?limit=1000").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let items = page.body["data"].as_array().expect("data array").clone();
    assert_eq!(items.len(), 4);
    assert_eq!(page.body["next_cursor"], json!(null));
    for item in &items {
        let id = item["id"].as_str().expect("id");
        let single = api.get(&format!("/v1/devices/{id}")).await;
        assert_eq!(&single.body, item, "list and show differ for {id}");
    }
    let moved_item = items
        .iter()
        .find(|d| d["identifier"] == json!("moved"))
        .expect("moved device listed");
    assert_eq!(moved_item["needs_provisioning"], json!(true));
    assert_eq!(moved_item["product"], json!("gateway"));
    let rich_item = items
        .iter()
        .find(|d| d["identifier"] == json!("rich"))
        .expect("rich device listed");
    assert_eq!(rich_item["tags"], json!(["a/b:c=d", "site:berlin"]));
    assert_eq!(rich_item["cohort"], json!("beta"));
}
