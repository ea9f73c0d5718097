//! `-o json` prints an object for every command: deletes print the deleted object, the firmware
//! policy names its product, and API error bodies always carry `fields`.

use reqwest::Method;

use crate::api_support::Api;
use crate::common::cli::Cli;
use crate::common::server::TestServer;

#[test]
fn deletes_print_the_deleted_object() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let product = cli
        .run(&["product", "create", "meter", "-o", "json"])
        .success()
        .json();
    let cohort = cli
        .run(&["cohort", "create", "beta", "-P", "meter", "-o", "json"])
        .success()
        .json();
    let device = cli
        .run(&["device", "create", "sn-1", "-P", "meter", "-o", "json"])
        .success()
        .json();

    let deleted = cli
        .run(&["device", "delete", "sn-1", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(deleted["id"], device["id"]);
    assert_eq!(deleted["identifier"], "sn-1");
    cli.run(&["device", "show", "sn-1"]).failure(6);

    let deleted = cli
        .run(&[
            "cohort", "delete", "beta", "-P", "meter", "--yes", "-o", "json",
        ])
        .success()
        .json();
    assert_eq!(deleted["id"], cohort["id"]);

    let deleted = cli
        .run(&["product", "delete", "meter", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(deleted["id"], product["id"]);
    assert_eq!(deleted["name"], "meter");
}

#[test]
fn signing_key_delete_prints_the_deleted_key() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let dir = tempfile::tempdir().expect("temp dir");
    let pem = dir.path().join("ci.pem");
    let pem = pem.to_str().expect("utf-8");
    cli.run(&["signing-key", "generate", "ci", "--out", pem])
        .success();
    let deleted = cli
        .run(&["signing-key", "delete", "ci", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(deleted["name"], "ci");
    assert!(deleted["id"].as_str().is_some_and(|id| !id.is_empty()));
    let left = cli.run(&["signing-key", "list", "-o", "id"]).success();
    assert_eq!(left.stdout, "");
}

#[test]
fn firmware_policy_json_names_its_product() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let product = cli
        .run(&["product", "create", "meter", "-o", "json"])
        .success()
        .json();
    let shown = cli
        .run(&["firmware", "policy", "-P", "meter", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["product"], "meter");
    assert_eq!(shown["product_id"], product["id"]);
    assert_eq!(shown["require_signed_firmware"], false);

    // Named by ID, the answer still gives the name.
    let id = product["id"].as_str().expect("id");
    let set = cli
        .run(&[
            "firmware",
            "policy",
            "-P",
            id,
            "--require-signed",
            "true",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(set["product"], "meter");
    assert_eq!(set["require_signed_firmware"], true);
}

#[tokio::test]
async fn error_bodies_carry_fields_even_when_empty() {
    let api = Api::start();
    let unauthorized = api.send(api.anonymous(Method::GET, "/v1/products")).await;
    unauthorized.assert_error(401, "unauthorized");
    assert_eq!(unauthorized.body["fields"], serde_json::json!([]));

    let missing = api
        .send(api.request(Method::GET, "/v1/products/nope"))
        .await;
    missing.assert_error(404, "not_found");
    assert_eq!(missing.body["fields"], serde_json::json!([]));
}

#[tokio::test]
async fn the_documented_error_shape_requires_fields() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await;
    let required = &doc.body["components"]["schemas"]["ErrorBody"]["required"];
    assert!(
        required
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == "fields")),
        "{required}"
    );
}
