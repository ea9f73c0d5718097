//! Configurations over the API: product, cohort and device documents merged as JSON Merge
//! Patch, the schema every effective configuration must satisfy, revisions, diff, rollback,
//! If-Match, secrets, product scope and archived products.

use reqwest::Method;
use serde_json::{Value, json};

use crate::access_support::{call, key};
use crate::api_support::{Api, Resp};

const P: &str = "/v1/products/sensor/config";
const C: &str = "/v1/products/sensor/cohorts/beta/config";
const D: &str = "/v1/devices/sn-1/config";

async fn put(api: &Api, path: &str, body: Value) -> Resp {
    api.send(api.request(Method::PUT, path).json(&body)).await
}

async fn put_if(api: &Api, path: &str, revision: &str, body: Value) -> Resp {
    let request = api
        .request(Method::PUT, path)
        .header("if-match", revision)
        .json(&body);
    api.send(request).await
}

#[track_caller]
fn ok(resp: &Resp) -> &Value {
    assert_eq!(resp.status, 200, "{}", resp.body);
    &resp.body
}

/// A product `sensor` with cohort `beta` and devices `sn-1` (in beta) and `sn-2` (no cohort).
async fn fleet() -> Api {
    let api = Api::start();
    api.product("sensor").await;
    api.cohort("sensor", "beta").await;
    api.device(json!({"identifier": "sn-1", "product": "sensor", "cohort": "beta"}))
        .await;
    api.device(json!({"identifier": "sn-2", "product": "sensor"}))
        .await;
    api
}

fn fields(resp: &Resp) -> Vec<String> {
    let mut fields: Vec<String> = resp.body["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    fields.dedup();
    fields
}

#[tokio::test]
async fn effective_configuration_is_product_then_cohort_then_device_and_null_removes() {
    let api = fleet().await;
    let product = json!({"log": "info", "rate": 10, "net": {"url": "https://a", "tls": true}});
    ok(&put(&api, P, json!({"document": product})).await);
    ok(&put(
        &api,
        C,
        json!({"document": {"log": "debug", "net": {"tls": null}}}),
    )
    .await);
    ok(&put(&api, D, json!({"document": {"rate": null, "extra": 1}})).await);

    let device = api.get(&format!("{D}?effective=true")).await;
    let device = ok(&device);
    assert_eq!(device["effective"], json!(true));
    assert_eq!(
        device["document"],
        json!({"log": "debug", "net": {"url": "https://a"}, "extra": 1})
    );
    assert!(device["effective_revision"].as_i64().is_some_and(|r| r > 0));
    let cohort = api.get(&format!("{C}?effective=true")).await;
    assert_eq!(
        ok(&cohort)["document"],
        json!({"log": "debug", "rate": 10, "net": {"url": "https://a"}})
    );
    // A device in no cohort gets the product's document.
    let other = api.get("/v1/devices/sn-2/config?effective=true").await;
    assert_eq!(ok(&other)["document"], product);
    // Without `effective`, each level shows its own document.
    let own = api.get(C).await;
    assert_eq!(
        ok(&own)["document"],
        json!({"log": "debug", "net": {"tls": null}})
    );
    assert_eq!(own.header("etag"), Some("\"1\""));

    // PATCH sets and removes by path; unsetting in an override inherits again.
    let patched = api
        .patch(
            D,
            json!({"set": {"net.port": 8443}, "unset": ["rate"], "message": "port"}),
        )
        .await;
    assert_eq!(ok(&patched)["revision"], json!(2));
    let device = api.get(&format!("{D}?effective=true")).await;
    assert_eq!(
        ok(&device)["document"],
        json!({"log": "debug", "rate": 10, "net": {"url": "https://a", "port": 8443}, "extra": 1})
    );
}

#[tokio::test]
async fn a_schema_refuses_documents_listing_every_failing_path() {
    let api = fleet().await;
    let schema = json!({
        "type": "object",
        "properties": {
            "log": {"enum": ["info", "debug"]},
            "rate": {"type": "integer", "maximum": 100},
            "mode": {"enum": ["normal", "strict"]}
        },
        "required": ["log"],
        // Strict mode allows low rates only: a rule over two keys that may come from two
        // levels.
        "if": {"properties": {"mode": {"const": "strict"}}, "required": ["mode"]},
        "then": {"properties": {"rate": {"maximum": 10}}}
    });
    let set = put(&api, &format!("{P}/schema"), json!({"schema": schema})).await;
    assert_eq!(ok(&set)["revision"], json!(1));

    let bad = put(&api, P, json!({"document": {"log": "loud", "rate": 500}})).await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(fields(&bad), ["config.log", "config.rate"]);
    let missing = put(&api, P, json!({"document": {"rate": 5}})).await;
    missing.assert_error(422, "validation_failed");
    assert_eq!(fields(&missing), ["config"]);
    assert_eq!(
        ok(&api.get(P).await)["revision"],
        json!(0),
        "nothing was written"
    );

    ok(&put(&api, P, json!({"document": {"log": "info"}})).await);
    ok(&put(&api, D, json!({"document": {"rate": 50}})).await);
    // A device override that breaks its device's effective configuration is refused...
    let device = api.patch(D, json!({"set": {"rate": 1000}})).await;
    device.assert_error(422, "validation_failed");
    assert_eq!(fields(&device), ["config.rate"]);
    // ...and so is a product change that would break a device's, though the product's own
    // document is fine: every distinct override set is checked.
    let product = api.patch(P, json!({"set": {"mode": "strict"}})).await;
    product.assert_error(422, "validation_failed");
    assert_eq!(fields(&product), ["config.rate"]);
    let messages = product.body.to_string();
    assert!(messages.contains("cohort `beta`"), "{messages}");
    // A cohort override removing a required key is refused too.
    let cohort = put(&api, C, json!({"document": {"log": null}})).await;
    cohort.assert_error(422, "validation_failed");
    assert_eq!(fields(&cohort), ["config"]);
    // A schema the existing configurations do not satisfy is refused with their paths.
    let stricter = json!({"type": "object", "properties": {"rate": {"maximum": 10}}});
    let refused = put(&api, &format!("{P}/schema"), json!({"schema": stricter})).await;
    refused.assert_error(422, "validation_failed");
    assert_eq!(fields(&refused), ["config.rate"]);
    // And a schema that is not one.
    let broken = put(
        &api,
        &format!("{P}/schema"),
        json!({"schema": {"type": 12}}),
    )
    .await;
    broken.assert_error(422, "validation_failed");
    assert_eq!(fields(&broken), ["schema"]);
    let removed = api.delete(&format!("{P}/schema")).await;
    assert_eq!(ok(&removed)["schema"], Value::Null);
    ok(&api.patch(D, json!({"set": {"rate": 1000}})).await);
}

#[tokio::test]
async fn revisions_are_kept_diffed_and_rolled_back_as_new_revisions() {
    let api = fleet().await;
    ok(&put(
        &api,
        P,
        json!({"document": {"log": "info", "rate": 10}, "message": "first"}),
    )
    .await);
    ok(&api
        .patch(
            P,
            json!({"set": {"log": "debug"}, "unset": ["rate"], "message": "second"}),
        )
        .await);
    let history = api.get(&format!("{P}/revisions")).await;
    let history = ok(&history);
    let revisions: Vec<(i64, &str)> = history["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap_or(0),
                r["message"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(revisions, [(2, "second"), (1, "first")]);
    assert!(history["data"][0]["key_name"].is_string());
    let page = api.get(&format!("{P}/revisions?limit=1")).await;
    assert_eq!(ok(&page)["next_before"], json!(2));
    let rest = api.get(&format!("{P}/revisions?limit=1&before=2")).await;
    assert_eq!(ok(&rest)["data"][0]["revision"], json!(1));

    let diff = api.get(&format!("{P}/diff?from=1&to=2")).await;
    assert_eq!(
        ok(&diff)["changes"],
        json!([
            {"path": "log", "change": "changed", "old": "info", "new": "debug"},
            {"path": "rate", "change": "removed", "old": 10}
        ])
    );
    api.get(&format!("{P}/diff?from=1&to=9"))
        .await
        .assert_error(404, "not_found");

    let back = api
        .post(&format!("{P}/rollback"), json!({"revision": 1}))
        .await;
    let back = ok(&back);
    assert_eq!(back["revision"], json!(3));
    assert_eq!(back["document"], json!({"log": "info", "rate": 10}));
    let diff = api.get(&format!("{P}/diff?from=1")).await;
    assert_eq!(ok(&diff)["changes"], json!([]));
    let events = api.get("/v1/events?action=config.*").await;
    let actions: Vec<&str> = ok(&events)["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["config.updated", "config.updated", "config.rolled_back"]
    );
}

#[tokio::test]
async fn concurrent_edits_are_refused_with_412() {
    let api = fleet().await;
    ok(&put_if(&api, P, "\"0\"", json!({"document": {"a": 1}})).await);
    // Two people read revision 1; the first write wins, the second is refused.
    ok(&put_if(&api, P, "\"1\"", json!({"document": {"a": 2}})).await);
    let late = put_if(&api, P, "\"1\"", json!({"document": {"a": 3}})).await;
    late.assert_error(412, "precondition_failed");
    let now = api.get(P).await;
    assert_eq!(ok(&now)["document"], json!({"a": 2}));
    let stale_patch = api
        .send(
            api.request(Method::PATCH, C)
                .header("if-match", "\"4\"")
                .json(&json!({"set": {"a": 1}})),
        )
        .await;
    stale_patch.assert_error(412, "precondition_failed");
}

#[tokio::test]
async fn secrets_are_never_shown_and_only_replaced() {
    let api = fleet().await;
    let set = api
        .patch(
            P,
            json!({"set": {"net.token": "hunter2-secret", "net.url": "https://a"}, "secrets": ["net.token"]}),
        )
        .await;
    let set = ok(&set);
    assert_eq!(set["document"]["net"]["token"], json!("***"));
    assert_eq!(set["secrets"], json!(["net.token"]));
    // A person edits the document as shown: the masked secret keeps its value.
    ok(&put(
        &api,
        P,
        json!({"document": {"net": {"token": "***", "url": "https://b"}}}),
    )
    .await);
    ok(&api
        .patch(D, json!({"set": {"net.token": "device-secret-value"}}))
        .await);
    ok(&api
        .patch(P, json!({"set": {"net.token": "rotated-secret"}}))
        .await);
    let mut shown = String::new();
    for path in [
        P.to_owned(),
        format!("{P}?effective=true"),
        format!("{D}?effective=true"),
        D.to_owned(),
        format!("{P}/revisions"),
        format!("{D}/revisions"),
        format!("{P}/diff?from=0"),
        format!("{P}/diff?from=1&to=3"),
        "/v1/events?action=config.*".to_owned(),
    ] {
        let resp = api.get(&path).await;
        shown.push_str(&ok(&resp).to_string());
    }
    for secret in ["hunter2-secret", "device-secret-value", "rotated-secret"] {
        assert!(!shown.contains(secret), "`{secret}` shown: {shown}");
    }
    assert!(shown.contains("***"));
    // The stored value survived the masked edit: revision 2 differs from 3 only by the token.
    let diff = api.get(&format!("{P}/diff?from=2&to=3")).await;
    assert_eq!(
        ok(&diff)["changes"],
        json!([{"path": "net.token", "change": "changed", "old": "***", "new": "***"}])
    );
    let diff = api.get(&format!("{P}/diff?from=1&to=2")).await;
    assert_eq!(
        ok(&diff)["changes"],
        json!([{"path": "net.url", "change": "changed", "old": "https://a", "new": "https://b"}])
    );
}

#[tokio::test]
async fn a_scoped_key_sees_no_other_products_configuration() {
    let api = fleet().await;
    api.product("gateway").await;
    ok(&put(&api, P, json!({"document": {"a": 1}})).await);
    let (scoped, _) = key(&api, "gw-only", "write", Some(&["gateway"])).await;
    for path in [
        P,
        C,
        D,
        "/v1/products/sensor/config/schema",
        "/v1/products/sensor/config/revisions",
    ] {
        let resp = call(&api, &scoped, Method::GET, path, None).await;
        resp.assert_error(404, "not_found");
        assert!(!resp.body.to_string().contains("\"a\""), "{}", resp.body);
    }
    let write = call(
        &api,
        &scoped,
        Method::PUT,
        P,
        Some(json!({"document": {"a": 2}})),
    )
    .await;
    write.assert_error(404, "not_found");
    assert_eq!(ok(&api.get(P).await)["document"], json!({"a": 1}));
    let own = call(
        &api,
        &scoped,
        Method::GET,
        "/v1/products/gateway/config",
        None,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
}

#[tokio::test]
async fn archived_products_refuse_configuration_changes_but_stay_readable() {
    let api = fleet().await;
    ok(&put(&api, P, json!({"document": {"a": 1}})).await);
    let archived = api
        .patch("/v1/products/sensor", json!({"archived": true}))
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    for resp in [
        put(&api, P, json!({"document": {"a": 2}})).await,
        api.patch(C, json!({"set": {"a": 3}})).await,
        api.patch(D, json!({"set": {"a": 3}})).await,
        api.post(&format!("{P}/rollback"), json!({"revision": 1}))
            .await,
        put(
            &api,
            &format!("{P}/schema"),
            json!({"schema": {"type": "object"}}),
        )
        .await,
    ] {
        resp.assert_error(409, "conflict");
        assert!(resp.message().contains("archived"), "{}", resp.body);
    }
    assert_eq!(ok(&api.get(P).await)["document"], json!({"a": 1}));
}

#[tokio::test]
async fn bad_paths_and_oversized_documents_are_refused() {
    let api = fleet().await;
    let bad = api
        .patch(
            P,
            json!({"set": {"a..b": 1}, "unset": [""], "secrets": [".x"]}),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(fields(&bad), ["secrets[0]", "set.a..b", "unset[0]"]);
    // As many paths as the OpenAPI document's `maxItems` allows, and one more.
    let paths = |n: usize| (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>();
    let limit = fleet::api::config::MAX_PATHS;
    let too_many = paths(limit + 1);
    let refused = put(&api, P, json!({"document": {}, "secrets": too_many})).await;
    refused.assert_error(422, "validation_failed");
    assert_eq!(fields(&refused), ["secrets"]);
    // The same path repeated counts each time: the limit is on the request, not the set.
    let repeated = vec!["a"; limit + 1];
    let refused = put(&api, P, json!({"document": {}, "secrets": repeated})).await;
    assert_eq!(fields(&refused), ["secrets"]);
    let refused = api
        .patch(P, json!({"unset": too_many, "secrets": too_many}))
        .await;
    assert_eq!(fields(&refused), ["secrets", "unset"]);
    assert_eq!(
        ok(&api.get(P).await)["secrets"],
        json!([]),
        "nothing marked"
    );
    ok(&put(&api, P, json!({"document": {}, "secrets": paths(limit)})).await);
    let big = "x".repeat(70 * 1024);
    put(&api, P, json!({"document": {"blob": big}}))
        .await
        .assert_error(422, "validation_failed");
    api.get("/v1/products/sensor/cohorts/nope/config")
        .await
        .assert_error(404, "not_found");
    api.get("/v1/devices/nope/config")
        .await
        .assert_error(404, "not_found");
}
