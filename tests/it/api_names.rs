//! Names and identifiers that cannot be shown or addressed safely are refused: `.` and `..` as
//! device identifiers and targets, control and invisible formatting characters (bidirectional
//! overrides, zero-width characters, …) in API key names. Descriptions are free text and keep
//! them. The OpenAPI document's patterns accept exactly what the service accepts.

use regex::Regex;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api_support::{Api, Resp};

/// Asserts a 422 whose field details name `field`.
#[track_caller]
fn assert_refused(resp: &Resp, field: &str) {
    resp.assert_error(422, "validation_failed");
    let fields: Vec<&str> = resp.body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&field),
        "no `{field}` detail: {}",
        resp.body
    );
}

#[tokio::test]
async fn dots_are_refused_as_device_identifiers_and_targets() {
    let api = Api::start();
    api.product("p").await;
    for dots in [".", ".."] {
        let identifier = api
            .post("/v1/devices", json!({ "identifier": dots, "product": "p" }))
            .await;
        assert_refused(&identifier, "identifier");
        let target = api
            .post(
                "/v1/devices",
                json!({ "identifier": "sn-1", "product": "p", "target": dots }),
            )
            .await;
        assert_refused(&target, "target");
        let import = api
            .post(
                "/v1/bulk/import",
                json!({ "product": "p", "devices": [{ "identifier": dots }] }),
            )
            .await;
        assert_refused(&import, "line 1");
    }
    api.device(json!({ "identifier": "sn-2", "product": "p" }))
        .await;
    let patch = api
        .patch("/v1/devices/sn-2", json!({ "target": ".." }))
        .await;
    assert_refused(&patch, "target");

    let artifact = api
        .post("/v1/products/p/artifacts", json!({ "name": "app" }))
        .await;
    assert_eq!(artifact.status, 201, "{}", artifact.body);
    let version = api
        .post(
            "/v1/products/p/artifacts/app/versions",
            json!({ "version": "1.0" }),
        )
        .await;
    assert_eq!(version.status, 201, "{}", version.body);
    for dots in [".", ".."] {
        let binary = api
            .post(
                "/v1/products/p/artifacts/app/versions/1.0/binaries",
                json!({ "target": dots, "size": 3, "sha256": "a".repeat(64) }),
            )
            .await;
        assert_refused(&binary, "target");
    }
    // Dots among other characters stay fine.
    api.device(json!({ "identifier": "..sn.3", "product": "p", "target": ".x" }))
        .await;
}

#[tokio::test]
async fn invisible_characters_are_refused_in_api_key_names() {
    let api = Api::start();
    for c in [
        '\u{202a}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{200b}',
        '\u{200f}',
        '\u{feff}',
        '\u{2060}',
        '\u{2064}',
        '\u{e0041}',
        '\u{7}',
    ] {
        let name = format!("ci{c}key");
        let resp = api
            .post("/v1/api-keys", json!({ "name": name, "role": "read" }))
            .await;
        assert_refused(&resp, "name");
        assert!(
            resp.message().contains(&format!("{c:?}")),
            "the message shows the character escaped: {}",
            resp.body
        );
    }
    // Other Unicode stays welcome.
    let resp = api
        .post(
            "/v1/api-keys",
            json!({ "name": "CI für Café ✓", "role": "read" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
}

#[tokio::test]
async fn descriptions_keep_invisible_characters_exactly() {
    let api = Api::start();
    let description = "evil\u{202e}txt.exe \u{200b}\u{2066}x\u{2069}";
    let product = api
        .post(
            "/v1/products",
            json!({ "name": "p", "description": description }),
        )
        .await;
    assert_eq!(product.status, 201, "{}", product.body);
    assert_eq!(
        api.get("/v1/products/p").await.body["description"],
        description
    );
}

/// The pattern of `field` in `schema` of the served document, anchored as JSON Schema means it.
fn pattern(doc: &Value, schema: &str, field: &str) -> Regex {
    let text = doc["components"]["schemas"][schema]["properties"][field]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{field} has no pattern"));
    Regex::new(text).unwrap_or_else(|err| panic!("{schema}.{field}: {err}"))
}

/// Every pattern agrees with its validator over `samples`: the document neither refuses what
/// the service takes nor takes what it refuses.
#[tokio::test]
async fn the_document_states_the_name_rules() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await
        .body;
    let samples = [
        "sn-1", ".", "..", "...", ".a", "a.", "a..b", "_", ":", "a:b", "-", "x86_64", "a b", "a/b",
        "é", "\u{202e}",
    ];
    let identifier = fleet::api::validate::device_identifier;
    let target = fleet::api::validate::target;
    for (schema, field, rule) in [
        (
            "CreateDevice",
            "identifier",
            identifier as fn(&str) -> Result<(), String>,
        ),
        ("ImportRow", "identifier", identifier),
        ("CreateDevice", "target", target),
        ("UpdateDevice", "target", target),
        ("ImportRow", "target", target),
        ("CreateBinary", "target", target),
    ] {
        let re = pattern(&doc, schema, field);
        for sample in samples {
            assert_eq!(
                re.is_match(sample),
                rule(sample).is_ok(),
                "{schema}.{field} on {sample:?}"
            );
        }
    }

    // API key names: every character of the Basic Multilingual Plane, alone, inside a name
    // and at its edges. (The few invisible characters above it are stated in the description.)
    let re = pattern(&doc, "CreateApiKey", "name");
    let accepted = |name: &str| fleet::api::validate::api_key_name(name).is_ok();
    for c in (0u32..0x1_0000).filter_map(char::from_u32) {
        for name in [format!("a{c}b"), format!("{c}b"), format!("a{c}")] {
            assert_eq!(re.is_match(&name), accepted(&name), "{name:?}");
        }
    }
    let description =
        doc["components"]["schemas"]["CreateApiKey"]["properties"]["name"]["description"]
            .as_str()
            .expect("a description");
    assert!(description.contains("Cf"), "{description}");
}
