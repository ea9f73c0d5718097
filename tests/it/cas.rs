//! Certificate authorities: registered per product with the rules of a CA certificate, unique
//! in the whole service, with JITP settings whose cohort is one of the product's own.

use reqwest::Method;
use serde_json::json;

use crate::access_support::{call, events, key};
use crate::api_support::Api;
use crate::ident_support::{
    add_ca, ca, ca_that_cannot_sign, expired_ca, fields, fingerprint, not_a_ca,
};

#[tokio::test]
async fn a_ca_is_created_shown_listed_updated_and_deleted() {
    let api = Api::start();
    let product = api.product("sensor").await;
    api.cohort("sensor", "beta").await;
    let pem = ca("factory").cert_pem;
    let created = api
        .post(
            "/v1/products/sensor/cas",
            json!({
                "name": "factory", "certificate": pem,
                "jitp": { "enabled": true, "cohort": "beta", "tags": ["site:b", "line:a"],
                          "target": "aarch64-unknown-linux-gnu", "description": "jitp'd" },
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let ca = created.body.clone();
    let id = ca["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("ca_"), "{id}");
    assert_eq!(
        created.header("location"),
        Some(
            format!(
                "/v1/products/{}/cas/{id}",
                product["id"].as_str().expect("pid")
            )
            .as_str()
        )
    );
    assert_eq!(ca["product"], "sensor");
    assert_eq!(ca["subject"], "CN=factory");
    assert_eq!(ca["fingerprint"], fingerprint(&pem));
    assert_eq!(ca["enabled"], true);
    assert_eq!(ca["jitp"]["enabled"], true);
    assert_eq!(ca["jitp"]["cohort"], "beta");
    assert_eq!(ca["jitp"]["tags"], json!(["line:a", "site:b"]));
    assert_eq!(ca["jitp"]["target"], "aarch64-unknown-linux-gnu");
    assert!(ca["not_before"].as_str() < ca["not_after"].as_str());

    assert_eq!(api.get("/v1/products/sensor/cas/factory").await.body, ca);
    assert_eq!(
        api.get(&format!("/v1/products/sensor/cas/{id}")).await.body,
        ca
    );
    let listed = api.get("/v1/products/sensor/cas").await.body;
    assert_eq!(listed["data"], json!([ca.clone()]));
    assert_eq!(
        api.get("/v1/cas?product=sensor").await.body["data"],
        json!([ca.clone()])
    );

    let stale = api
        .send(
            api.request(Method::PATCH, "/v1/products/sensor/cas/factory")
                .header("if-match", "\"7\"")
                .json(&json!({ "enabled": false })),
        )
        .await;
    stale.assert_error(412, "precondition_failed");
    let updated = api
        .patch(
            "/v1/products/sensor/cas/factory",
            json!({ "enabled": false, "jitp": { "enabled": false, "cohort": null, "tags": [] } }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["enabled"], false);
    assert_eq!(updated.body["jitp"]["enabled"], false);
    assert_eq!(updated.body["jitp"]["cohort"], json!(null));
    assert_eq!(updated.body["jitp"]["tags"], json!([]));
    // Left alone: not in the PATCH.
    assert_eq!(updated.body["jitp"]["target"], "aarch64-unknown-linux-gnu");
    assert_eq!(updated.body["revision"], 2);

    let gone = api.delete("/v1/products/sensor/cas/factory").await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    api.get("/v1/products/sensor/cas/factory")
        .await
        .assert_error(404, "not_found");

    let actions: Vec<String> = events(&api, &format!("resource={id}"))
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    for action in ["ca.created", "ca.updated", "ca.deleted"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_certificate_that_is_not_a_usable_ca_is_refused_with_the_reason() {
    let api = Api::start();
    api.product("sensor").await;
    let good = ca("good").cert_pem;
    let cases = [
        ("garbage", "not a certificate".to_owned(), "no PEM block"),
        (
            "two",
            format!("{good}{}", ca("other").cert_pem),
            "2 PEM blocks",
        ),
        ("leaf", not_a_ca(), "not a CA certificate"),
        ("expired", expired_ca(), "expired"),
        ("nosign", ca_that_cannot_sign(), "keyCertSign"),
        ("key", ca("k").key_pem, "PRIVATE KEY"),
    ];
    for (name, pem, why) in cases {
        let resp = api
            .post(
                "/v1/products/sensor/cas",
                json!({ "name": name, "certificate": pem }),
            )
            .await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(fields(&resp.body), ["certificate"], "{name}: {}", resp.body);
        assert!(resp.message().contains(why), "{name}: {}", resp.message());
    }
    assert_eq!(api.get("/v1/cas").await.body["data"], json!([]));
    add_ca(&api, "sensor", "good", &good).await;
}

#[tokio::test]
async fn one_ca_certificate_belongs_to_one_product_only() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let pem = ca("factory").cert_pem;
    add_ca(&api, "sensor", "factory", &pem).await;

    let again = api
        .post(
            "/v1/products/gateway/cas",
            json!({ "name": "factory", "certificate": pem }),
        )
        .await;
    again.assert_error(409, "conflict");
    assert!(
        again.message().contains("`factory` of product `sensor`"),
        "{}",
        again.message()
    );
    // A key that cannot see `sensor` learns only that the certificate is taken.
    let (scoped, _) = key(&api, "gw", "write", Some(&["gateway"])).await;
    let hidden = call(
        &api,
        &scoped,
        Method::POST,
        "/v1/products/gateway/cas",
        Some(json!({ "name": "factory", "certificate": pem })),
    )
    .await;
    hidden.assert_error(409, "conflict");
    assert!(
        hidden.message().contains("already registered") && !hidden.message().contains("sensor"),
        "{}",
        hidden.message()
    );
    // Names are per product.
    let name_taken = api
        .post(
            "/v1/products/sensor/cas",
            json!({ "name": "factory", "certificate": ca("x").cert_pem }),
        )
        .await;
    name_taken.assert_error(409, "conflict");
}

#[tokio::test]
async fn the_jitp_cohort_must_be_one_of_the_products_own() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let theirs = api.cohort("gateway", "beta").await;
    let by_id = api
        .post(
            "/v1/products/sensor/cas",
            json!({ "name": "f", "certificate": ca("f").cert_pem,
                    "jitp": { "enabled": true, "cohort": theirs["id"] } }),
        )
        .await;
    by_id.assert_error(422, "validation_failed");
    assert_eq!(fields(&by_id.body), ["jitp.cohort"]);
    assert!(
        by_id.message().contains("belongs to product `gateway`"),
        "{}",
        by_id.message()
    );
    let by_name = api
        .post(
            "/v1/products/sensor/cas",
            json!({ "name": "f", "certificate": ca("f").cert_pem,
                    "jitp": { "cohort": "beta" } }),
        )
        .await;
    by_name.assert_error(422, "validation_failed");

    add_ca(&api, "sensor", "f", &ca("f").cert_pem).await;
    let patch = api
        .patch(
            "/v1/products/sensor/cas/f",
            json!({ "jitp": { "cohort": theirs["id"] } }),
        )
        .await;
    patch.assert_error(422, "validation_failed");
    assert_eq!(fields(&patch.body), ["jitp.cohort"]);
}

#[tokio::test]
async fn an_archived_product_takes_no_new_ca_and_a_product_with_cas_can_be_deleted() {
    let api = Api::start();
    api.product("sensor").await;
    add_ca(&api, "sensor", "kept", &ca("kept").cert_pem).await;
    let archived = api
        .patch("/v1/products/sensor", json!({ "archived": true }))
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    let refused = api
        .post(
            "/v1/products/sensor/cas",
            json!({ "name": "new", "certificate": ca("new").cert_pem }),
        )
        .await;
    refused.assert_error(409, "conflict");
    assert!(
        refused.message().contains("archived"),
        "{}",
        refused.message()
    );

    let deleted = api.delete("/v1/products/sensor").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(api.get("/v1/cas").await.body["data"], json!([]));
}

#[tokio::test]
async fn scoped_keys_see_only_their_products_cas() {
    let api = Api::start();
    api.product("mine").await;
    api.product("theirs").await;
    add_ca(&api, "mine", "a", &ca("a").cert_pem).await;
    add_ca(&api, "theirs", "b", &ca("b").cert_pem).await;
    let (scoped, _) = key(&api, "scoped", "read", Some(&["mine"])).await;
    let all = call(&api, &scoped, Method::GET, "/v1/cas", None).await;
    let names: Vec<&str> = all.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["a"]);
    call(
        &api,
        &scoped,
        Method::GET,
        "/v1/products/theirs/cas/b",
        None,
    )
    .await
    .assert_error(404, "not_found");
    call(&api, &scoped, Method::GET, "/v1/cas?product=theirs", None)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        api.get("/v1/cas").await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}
