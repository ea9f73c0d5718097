//! Cohorts: unique per product, looked up by name or ID within their product.

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;

#[tokio::test]
async fn cohort_names_are_unique_per_product_only() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let beta = api.cohort("sensor", "beta").await;
    assert!(beta["id"].as_str().is_some_and(|id| id.starts_with("coh_")));
    assert_eq!(beta["product"], json!("sensor"));
    api.cohort("gateway", "beta").await;

    let dup = api
        .post("/v1/products/sensor/cohorts", json!({"name": "beta"}))
        .await;
    dup.assert_error(409, "conflict");
    assert!(dup.message().contains("`beta`"), "{}", dup.message());
    api.post("/v1/products/sensor/cohorts", json!({"name": "Beta!"}))
        .await
        .assert_error(422, "validation_failed");
    api.post("/v1/products/nope/cohorts", json!({"name": "x"}))
        .await
        .assert_error(404, "not_found");

    assert_eq!(api.names("/v1/cohorts", "name").await, ["beta", "beta"]);
    assert_eq!(
        api.names("/v1/cohorts?product=gateway", "product").await,
        ["gateway"]
    );
    assert_eq!(
        api.names("/v1/products/sensor/cohorts", "product").await,
        ["sensor"]
    );
    api.get("/v1/cohorts?product=nope")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn cohort_show_update_delete_by_name_or_id() {
    let api = Api::start();
    let product = api.product("sensor").await;
    let pid = product["id"].as_str().expect("id");
    let created = api
        .send(
            api.request(Method::POST, "/v1/products/sensor/cohorts")
                .json(&json!({"name": "beta", "description": "early"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let cid = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/products/{pid}/cohorts/{cid}").as_str())
    );
    let by_id = api.get(&format!("/v1/products/{pid}/cohorts/{cid}")).await;
    assert_eq!(by_id.body, created.body);
    assert_eq!(
        api.get("/v1/products/sensor/cohorts/beta").await.body,
        created.body
    );

    api.cohort("sensor", "gamma").await;
    api.patch("/v1/products/sensor/cohorts/beta", json!({"name": "gamma"}))
        .await
        .assert_error(409, "conflict");
    let renamed = api
        .patch(
            "/v1/products/sensor/cohorts/beta",
            json!({"name": "stable"}),
        )
        .await;
    assert_eq!(renamed.body["name"], json!("stable"));
    assert_eq!(renamed.body["revision"], json!(2));

    // A cohort ID of another product is not found under this one.
    api.product("other").await;
    api.get(&format!("/v1/products/other/cohorts/{cid}"))
        .await
        .assert_error(404, "not_found");

    // Deleting a cohort keeps its devices in the product, without a cohort.
    let device = api
        .device(json!({"identifier": "sn-1", "product": "sensor", "cohort": "stable"}))
        .await;
    assert_eq!(device["cohort"], json!("stable"));
    assert_eq!(
        api.get("/v1/products/sensor/cohorts/stable").await.body["device_count"],
        json!(1)
    );
    assert_eq!(
        api.delete("/v1/products/sensor/cohorts/stable")
            .await
            .status,
        204
    );
    api.get("/v1/products/sensor/cohorts/stable")
        .await
        .assert_error(404, "not_found");
    let after = api.get("/v1/devices/sn-1").await;
    assert_eq!(after.body["cohort"], json!(null));
    assert_eq!(after.body["cohort_id"], json!(null));
    assert_eq!(after.body["product"], json!("sensor"));
    assert_eq!(after.body["revision"], json!(2));
}

#[tokio::test]
async fn a_device_cohort_must_belong_to_the_device_product() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let gw_beta = api.cohort("gateway", "beta").await;
    let gw_beta_id = gw_beta["id"].as_str().expect("id");

    let by_name = api
        .post(
            "/v1/devices",
            json!({"identifier": "sn-1", "product": "sensor", "cohort": "beta"}),
        )
        .await;
    by_name.assert_error(422, "validation_failed");
    assert_eq!(by_name.body["fields"][0]["field"], json!("cohort"));

    let by_id = api
        .post(
            "/v1/devices",
            json!({"identifier": "sn-1", "product": "sensor", "cohort": gw_beta_id}),
        )
        .await;
    by_id.assert_error(422, "validation_failed");
    assert!(by_id.message().contains("gateway"), "{}", by_id.message());
    assert!(api.names("/v1/devices", "identifier").await.is_empty());

    api.device(json!({"identifier": "sn-1", "product": "sensor"}))
        .await;
    api.patch("/v1/devices/sn-1", json!({"cohort": gw_beta_id}))
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(api.get("/v1/devices/sn-1").await.body["revision"], json!(1));
}
