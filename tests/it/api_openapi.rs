//! The OpenAPI document lists every route the router serves.

use reqwest::Method;

use crate::api_support::Api;

/// Every (method, path) the router serves; kept next to a probe below that proves each one is
/// routed, so this list cannot silently drift from the router.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/health"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/products"),
    ("post", "/v1/products"),
    ("get", "/v1/products/{product}"),
    ("patch", "/v1/products/{product}"),
    ("delete", "/v1/products/{product}"),
    ("get", "/v1/products/{product}/cohorts"),
    ("post", "/v1/products/{product}/cohorts"),
    ("get", "/v1/products/{product}/cohorts/{cohort}"),
    ("patch", "/v1/products/{product}/cohorts/{cohort}"),
    ("delete", "/v1/products/{product}/cohorts/{cohort}"),
    ("get", "/v1/cohorts"),
    ("get", "/v1/devices"),
    ("post", "/v1/devices"),
    ("get", "/v1/devices/{device}/status"),
    ("get", "/v1/devices/{device}"),
    ("patch", "/v1/devices/{device}"),
    ("delete", "/v1/devices/{device}"),
    ("get", "/v1/whoami"),
    ("get", "/v1/api-keys"),
    ("post", "/v1/api-keys"),
    ("get", "/v1/api-keys/{key}"),
    ("post", "/v1/api-keys/{key}/revoke"),
    ("get", "/v1/events"),
    ("post", "/v1/bulk/move"),
    ("post", "/v1/bulk/assign"),
    ("post", "/v1/bulk/unassign"),
    ("post", "/v1/bulk/import"),
    ("post", "/v1/bulk/config"),
    ("get", "/v1/products/{product}/artifacts"),
    ("post", "/v1/products/{product}/artifacts"),
    ("get", "/v1/products/{product}/artifacts/{artifact}"),
    (
        "get",
        "/v1/products/{product}/artifacts/{artifact}/versions",
    ),
    (
        "post",
        "/v1/products/{product}/artifacts/{artifact}/versions",
    ),
    (
        "get",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}",
    ),
    (
        "post",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}/binaries",
    ),
    ("get", "/v1/products/{product}/firmware-policy"),
    ("put", "/v1/products/{product}/firmware-policy"),
    ("get", "/v1/products/{product}/bundles"),
    ("post", "/v1/products/{product}/bundles"),
    ("get", "/v1/products/{product}/bundles/{bundle}"),
    ("get", "/v1/products/{product}/releases"),
    ("post", "/v1/products/{product}/releases"),
    ("get", "/v1/products/{product}/releases/{release}"),
    ("patch", "/v1/products/{product}/releases/{release}"),
    ("post", "/v1/products/{product}/releases/{release}/halt"),
    ("post", "/v1/products/{product}/releases/{release}/resume"),
    ("post", "/v1/products/{product}/releases/{release}/promote"),
    ("get", "/v1/binaries"),
    ("get", "/v1/binaries/{binary}"),
    ("delete", "/v1/binaries/{binary}"),
    ("get", "/v1/binaries/{binary}/parts"),
    ("put", "/v1/binaries/{binary}/parts/{number}"),
    ("post", "/v1/binaries/{binary}/complete"),
    ("get", "/v1/binaries/{binary}/download"),
    ("post", "/v1/binaries/{binary}/signatures"),
    ("get", "/v1/signing-keys"),
    ("post", "/v1/signing-keys"),
    ("get", "/v1/signing-keys/{key}"),
    ("delete", "/v1/signing-keys/{key}"),
    ("get", "/v1/cas"),
    ("get", "/v1/products/{product}/cas"),
    ("post", "/v1/products/{product}/cas"),
    ("get", "/v1/products/{product}/cas/{ca}"),
    ("patch", "/v1/products/{product}/cas/{ca}"),
    ("delete", "/v1/products/{product}/cas/{ca}"),
    ("get", "/v1/devices/{device}/certificates"),
    ("post", "/v1/devices/{device}/certificates"),
    ("post", "/v1/devices/{device}/certificates/{cert}/revoke"),
    ("get", "/v1/products/{product}/stats"),
    ("get", "/v1/products/{product}/cohorts/{cohort}/stats"),
    ("get", "/v1/products/{product}/releases/{release}/stats"),
    ("get", "/v1/products/{product}/config"),
    ("put", "/v1/products/{product}/config"),
    ("patch", "/v1/products/{product}/config"),
    ("get", "/v1/products/{product}/config/revisions"),
    ("get", "/v1/products/{product}/config/diff"),
    ("post", "/v1/products/{product}/config/rollback"),
    ("get", "/v1/products/{product}/cohorts/{cohort}/config"),
    ("put", "/v1/products/{product}/cohorts/{cohort}/config"),
    ("patch", "/v1/products/{product}/cohorts/{cohort}/config"),
    (
        "get",
        "/v1/products/{product}/cohorts/{cohort}/config/revisions",
    ),
    ("get", "/v1/products/{product}/cohorts/{cohort}/config/diff"),
    (
        "post",
        "/v1/products/{product}/cohorts/{cohort}/config/rollback",
    ),
    ("get", "/v1/devices/{device}/config"),
    ("put", "/v1/devices/{device}/config"),
    ("patch", "/v1/devices/{device}/config"),
    ("get", "/v1/devices/{device}/config/revisions"),
    ("get", "/v1/devices/{device}/config/diff"),
    ("post", "/v1/devices/{device}/config/rollback"),
    ("get", "/v1/products/{product}/config/schema"),
    ("put", "/v1/products/{product}/config/schema"),
    ("delete", "/v1/products/{product}/config/schema"),
];

#[tokio::test]
async fn every_route_is_documented() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await;
    assert_eq!(doc.status, 200);
    let paths = doc.body["paths"].as_object().expect("paths");
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    let documented: usize = paths
        .values()
        .map(|p| p.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "the document has operations the router lacks"
    );
    assert!(doc.body["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc.body["components"]["securitySchemes"]["api_key"].is_object());
    let list_params = &paths["/v1/devices"]["get"]["parameters"];
    assert!(
        list_params
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "tag" && p["in"] == "query"),
        "{list_params}"
    );
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let api = Api::start();
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{product}", "no-such-product")
            .replace("{cohort}", "no-such-cohort")
            .replace("{device}", "no-such-device")
            .replace("{number}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let resp = api
            .send(
                api.request(method.clone(), &concrete)
                    .json(&serde_json::json!({})),
            )
            .await;
        // Routed: anything but the router's own 404/405 (a handler's 404 names the resource).
        assert_ne!(resp.status, 405, "{method} {concrete}: {}", resp.body);
        if resp.status == 404 {
            assert!(
                !resp.message().starts_with("no route"),
                "{method} {concrete} is not routed"
            );
        }
    }
}

/// A list's cursor is the ID of the previous page's last item, so the document gives every
/// `cursor` parameter the schema of the listed items' ID: exactly what the service accepts
/// (the device list, which also sorts by last check-in, takes that order's cursor too).
#[tokio::test]
async fn every_cursor_is_declared_as_the_id_of_the_listed_items() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await
        .body;
    let mut cursors = 0;
    let mut sorted = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        let Some(cursor) = params.iter().find(|p| p["name"] == "cursor") else {
            continue;
        };
        cursors += 1;
        let page = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .expect("a page schema")
            .rsplit('/')
            .next()
            .expect("name");
        let listed = doc["components"]["schemas"][page]["properties"]["data"]["items"]
            ["properties"]["id"]["$ref"]
            .clone();
        assert!(listed.is_string(), "{path}: items without an ID reference");
        if params.iter().any(|p| p["name"] == "sort") {
            // A list in another order than by ID also takes that order's cursor.
            sorted += 1;
            let one_of = &cursor["schema"]["oneOf"];
            assert_eq!(one_of[0]["$ref"], listed, "{path}: {cursor}");
            assert_eq!(
                one_of[1]["pattern"],
                fleet::server::SEEN_CURSOR_PATTERN,
                "{path}: {cursor}"
            );
            continue;
        }
        assert_eq!(cursor["schema"]["$ref"], listed, "{path}: {cursor}");
    }
    assert_eq!(cursors, 15, "every list has a cursor");
    assert_eq!(sorted, 1, "only the device list has another order");
}

/// The field rules the service enforces are in the document, so a client (or a fuzzer) that
/// follows it is not refused.
#[tokio::test]
async fn enforced_field_rules_are_declared() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await
        .body;
    let schemas = &doc["components"]["schemas"];
    let tag = &schemas["Tag"];
    assert_eq!(tag["pattern"], fleet::api::validate::TAG_PATTERN, "{tag}");
    for (schema, field) in [
        ("CreateProduct", "tags"),
        ("CreateDevice", "tags"),
        ("UpdateDevice", "add_tags"),
        ("UpdateDevice", "remove_tags"),
    ] {
        let items = &schemas[schema]["properties"][field]["items"]["$ref"];
        assert_eq!(items, "#/components/schemas/Tag", "{schema}.{field}");
    }
    let list_tag = doc["paths"]["/v1/devices"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "tag")
        .expect("tag filter")
        .clone();
    assert_eq!(list_tag["schema"]["maxItems"], 50, "{list_tag}");
    let bundle = &schemas["CreateBundle"]["properties"]["binaries"];
    assert_eq!(
        (
            &bundle["minItems"],
            &bundle["maxItems"],
            &bundle["uniqueItems"]
        ),
        (&1.into(), &100.into(), &true.into()),
        "{bundle}"
    );
    // The service enforces these counts itself (`MAX_PATHS`): the document must say the same.
    for (schema, field) in [
        ("PutConfig", "secrets"),
        ("PatchConfig", "secrets"),
        ("PatchConfig", "unset"),
        ("ConfigureDevices", "unset"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["maxItems"],
            fleet::api::config::MAX_PATHS,
            "{schema}.{field}"
        );
    }
    // The same for lengths the service checks itself (`MAX_PEM_CHARS`, `MAX_SCHEDULE_CHARS`).
    for (schema, field, limit) in [
        (
            "CreateCa",
            "certificate",
            fleet::api::device_cert::MAX_PEM_CHARS,
        ),
        (
            "AddDeviceCert",
            "certificate",
            fleet::api::device_cert::MAX_PEM_CHARS,
        ),
        (
            "CreateRelease",
            "schedule",
            fleet::api::rollout::MAX_SCHEDULE_CHARS,
        ),
        (
            "UpdateRelease",
            "schedule",
            fleet::api::rollout::MAX_SCHEDULE_CHARS,
        ),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["maxLength"], limit,
            "{schema}.{field}"
        );
    }
    assert_eq!(
        schemas["CreateBinary"]["properties"]["sha256"]["pattern"],
        "^[0-9a-f]{64}$"
    );
    assert!(schemas["CreateBinary"]["properties"]["size"]["maximum"].is_u64());
    assert_eq!(
        schemas["Release"]["properties"]["rollout_percent"]["maximum"],
        100
    );
    let nested_cohorts = doc["paths"]["/v1/products/{product}/cohorts"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    assert!(
        !nested_cohorts
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "product"),
        "the product is in the path: {nested_cohorts:?}"
    );
}
