//! Every error is JSON, also for requests refused before the router: a URI or headers past the
//! limits (414, 431) and requests that are not HTTP at all (400), sent over raw TCP.

use crate::common::server::TestServer;
use crate::transport_support::exchange;

fn get_with(path: &str, extra_headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: fleet\r\n{extra_headers}\r\n").into_bytes()
}

#[tokio::test]
async fn a_uri_past_the_limit_gets_a_json_414() {
    let server = TestServer::start();
    let past_ours = format!(
        "/v1/products?tag={}",
        "a".repeat(fleet::server::MAX_URI_BYTES)
    );
    exchange(&server, &get_with(&past_ours, ""))
        .await
        .assert_json_error(414, "uri_too_long");
    // Past hyper's own limit (64 KiB) too.
    let past_hypers = format!("/v1/products?tag={}", "a".repeat(70 * 1024));
    exchange(&server, &get_with(&past_hypers, ""))
        .await
        .assert_json_error(414, "uri_too_long");
}

#[tokio::test]
async fn headers_past_the_limit_get_a_json_431() {
    let server = TestServer::start();
    let big = format!("X-Big: {}\r\n", "b".repeat(fleet::server::MAX_HEADER_BYTES));
    exchange(&server, &get_with("/v1/health", &big))
        .await
        .assert_json_error(431, "headers_too_large");
    // Past hyper's buffer (~400 KiB) and past its header count (100).
    let huge = format!("X-Huge: {}\r\n", "h".repeat(600 * 1024));
    exchange(&server, &get_with("/v1/health", &huge))
        .await
        .assert_json_error(431, "headers_too_large");
    let many: String = (0..150).map(|i| format!("X-Many-{i}: 1\r\n")).collect();
    exchange(&server, &get_with("/v1/health", &many))
        .await
        .assert_json_error(431, "headers_too_large");
}

#[tokio::test]
async fn a_malformed_request_gets_a_json_400() {
    let server = TestServer::start();
    for request in [
        &b"THIS IS NOT HTTP\r\n\r\n"[..],
        b"GET /v1/health HTTP/7.0\r\nHost: fleet\r\n\r\n",
        b"GET /v1/health HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
        b"GET /v1/he\x01lth HTTP/1.1\r\nHost: fleet\r\n\r\n",
    ] {
        let response = exchange(&server, request).await;
        response.assert_json_error(400, "bad_request");
    }
}

#[tokio::test]
async fn a_limit_refusal_closes_the_connection() {
    let server = TestServer::start();
    let long = format!("/v1/health?x={}", "a".repeat(fleet::server::MAX_URI_BYTES));
    let response = exchange(&server, &get_with(&long, "")).await;
    response.assert_json_error(414, "uri_too_long");
    assert!(
        response.headers.iter().any(|h| h == "connection: close"),
        "{}",
        response.raw
    );
}
