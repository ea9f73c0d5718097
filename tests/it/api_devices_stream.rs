//! `GET /v1/devices?all=true`: every matching device in one streamed answer of the page shape,
//! byte for byte the single-device texts in list order, with the same filters, scope, order and
//! cursor as the pages; errors found before the first byte are ordinary error answers; a
//! reader that goes away mid-list costs the service nothing lasting; and the CLI refuses a
//! streamed list that ends before its closing `]}`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::access_support::{call, key};
use crate::api_support::Api;
use crate::common::cli::Cli;
use crate::common::stub::{self, Step};

/// GETs `path` with the admin key: status, headers and body text.
async fn text(api: &Api, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = api
        .request(Method::GET, path)
        .send()
        .await
        .expect("send the request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.text().await.expect("read the body"),
    )
}

/// The items of every page of `query` (pages of 3, from its `cursor` if it has one),
/// following `next_cursor`.
async fn paged(api: &Api, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let (cursors, filters): (Vec<&str>, Vec<&str>) = query
        .split('&')
        .partition(|pair| pair.starts_with("cursor="));
    let filters = filters.join("&");
    let mut cursor = cursors.first().map(|c| format!("&{c}")).unwrap_or_default();
    loop {
        let page = api
            .get(&format!("/v1/devices?limit=3&{filters}{cursor}"))
            .await;
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        items.extend(page.body["data"].as_array().expect("data").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return items,
        }
    }
}

/// The items of the streamed answer to `query`, checking its shape.
async fn streamed(api: &Api, query: &str) -> Vec<Value> {
    let (status, _, body) = text(api, &format!("/v1/devices?all=true&{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    let page: Value = serde_json::from_str(&body).expect("the answer is one JSON object");
    assert_eq!(page["next_cursor"], Value::Null, "{body}");
    page["data"].as_array().expect("data").clone()
}

/// Two products, a cohort, tags, targets and a quarantined device: 23 devices.
async fn fleet() -> Api {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    api.cohort("sensor", "beta").await;
    for n in 0..17 {
        let mut body = json!({"identifier": format!("s-{n:02}"), "product": "sensor"});
        if n % 3 == 0 {
            body["cohort"] = json!("beta");
        }
        if n % 2 == 0 {
            body["tags"] = json!(["site:berlin"]);
        }
        if n % 4 == 0 {
            body["target"] = json!("armv7");
        }
        api.device(body).await;
    }
    for n in 0..6 {
        api.device(json!({"identifier": format!("g-{n:02}"), "product": "gateway"}))
            .await;
    }
    let quarantined = api
        .patch("/v1/devices/s-05", json!({"quarantined": true}))
        .await;
    assert_eq!(quarantined.status, 200, "{}", quarantined.body);
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_streams_every_device_once_as_the_single_device_texts() {
    let api = fleet().await;
    let ids: Vec<String> = paged(&api, "")
        .await
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 23);
    let mut singles = Vec::new();
    for id in &ids {
        let (status, _, body) = text(&api, &format!("/v1/devices/{id}")).await;
        assert_eq!(status, 200, "{body}");
        singles.push(body);
    }
    let expected = format!("{{\"data\":[{}],\"next_cursor\":null}}", singles.join(","));
    // Steps of one, of a few (23 is no multiple of 4 or 7), of exactly the list and of more.
    for limit in ["1", "4", "7", "23", "1000"] {
        let (status, headers, body) =
            text(&api, &format!("/v1/devices?all=true&limit={limit}")).await;
        assert_eq!(status, 200, "limit {limit}: {body}");
        assert_eq!(body, expected, "limit {limit}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert!(
            headers.get("content-length").is_none(),
            "a streamed answer has no length up front: {headers:?}"
        );
    }
    // `all=false` is the ordinary first page.
    let (_, _, first) = text(&api, "/v1/devices?all=false&limit=2").await;
    let first: Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(first["data"].as_array().expect("data").len(), 2);
    assert!(first["next_cursor"].is_string(), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_honours_filters_cursor_and_order_like_the_pages() {
    let api = fleet().await;
    let everything = paged(&api, "").await;
    let tenth = everything[9]["id"].as_str().expect("id").to_owned();
    for query in [
        "product=sensor",
        "product=gateway",
        "product=sensor&cohort=beta",
        "tag=site:berlin",
        "tag=site:berlin&target=armv7",
        "quarantined=true",
        "quarantined=false&product=sensor",
        "online=false&product=gateway",
        "sort=last_seen",
        &format!("cursor={tenth}"),
        &format!("cursor={tenth}&product=sensor&limit=2"),
    ] {
        let pages = paged(&api, query.trim_end_matches("&limit=2")).await;
        let stream = streamed(&api, query).await;
        assert!(!stream.is_empty(), "{query} matches devices");
        assert_eq!(stream, pages, "{query}");
    }
    let after_tenth = streamed(&api, &format!("cursor={tenth}")).await;
    assert_eq!(after_tenth, everything[10..].to_vec());
    assert!(
        streamed(&api, "product=sensor&tag=site:nowhere")
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_sees_only_a_scoped_keys_products_and_checks_before_streaming() {
    let api = fleet().await;
    let (secret, _) = key(&api, "gateway-reader", "read", Some(&["gateway"])).await;
    let answer = call(
        &api,
        &secret,
        Method::GET,
        "/v1/devices?all=true&limit=2",
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let identifiers: Vec<&str> = answer.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["identifier"].as_str().expect("identifier"))
        .collect();
    assert_eq!(
        identifiers,
        ["g-00", "g-01", "g-02", "g-03", "g-04", "g-05"]
    );
    // A product outside the scope is not found, as for a page.
    call(
        &api,
        &secret,
        Method::GET,
        "/v1/devices?all=true&product=sensor",
        None,
    )
    .await
    .assert_error(404, "not_found");
    // Bad input is refused with its own status before any device is sent.
    api.get("/v1/devices?all=true&limit=0")
        .await
        .assert_error(422, "validation_failed");
    api.get("/v1/devices?all=true&cursor=nonsense")
        .await
        .assert_error(400, "bad_request");
    api.get("/v1/devices?all=true&product=nope")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_leaves_mid_list_leaves_the_service_serving() {
    let api = fleet().await;
    for _ in 0..3 {
        let mut response = api
            .request(Method::GET, "/v1/devices?all=true&limit=1")
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        let first = response.chunk().await.expect("a chunk").expect("not empty");
        assert!(first.starts_with(b"{\"data\":["), "{first:?}");
        drop(response);
    }
    // Every step returned its connection: the whole list still streams.
    assert_eq!(streamed(&api, "limit=1").await.len(), 23);
}

/// One device as the service writes it.
const DEVICE: &str = r#"{"id":"dev_0000000000000000000000000000000a","identifier":"sn-1","product_id":"prd_0000000000000000000000000000000a","product":"p","cohort_id":null,"cohort":null,"description":"","tags":[],"target":null,"quarantined":false,"needs_provisioning":false,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","revision":1}"#;

#[test]
fn the_cli_refuses_a_streamed_list_that_ends_before_its_end() {
    let complete: &'static str = Box::leak(
        format!("{{\"data\":[{DEVICE},{DEVICE}],\"next_cursor\":null}}").into_boxed_str(),
    );
    let cut: &'static str = Box::leak(format!("{{\"data\":[{DEVICE},{DEVICE}").into_boxed_str());

    let (url, seen) = stub::serve(vec![Step::Answer(200, "", complete)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli
        .run(&["device", "list", "--all", "-o", "ndjson"])
        .success();
    assert_eq!(
        run.lines(),
        [DEVICE, DEVICE],
        "printed as the service wrote them"
    );
    let request = seen.lock().expect("seen")[0].request_line.clone();
    assert!(
        request.contains("all=true"),
        "one request for the whole list: {request}"
    );

    let (url, _) = stub::serve(vec![Step::Answer(200, "", cut)]);
    let cli = Cli::with_profile(&url, "k");
    let run = cli.run(&["device", "list", "--all", "-o", "ndjson"]);
    assert_eq!(run.code, 8, "{run:#?}");
    assert!(
        run.stderr.contains("stopped sending the list"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_a_streamed_list_exactly_as_the_decoded_pages() {
    let api = fleet().await;
    api.device(json!({
        "identifier": "rich", "product": "sensor", "cohort": "beta",
        "tags": ["site:berlin", "a/b:c=d"], "target": "aarch64-unknown-linux-gnu",
        "description": "quote \" back\\slash\ttab\nnewline ünïcode 🚀 </script> {[,:]}"
    }))
    .await;
    let cli = Cli::against(&api.server);
    for format in ["json", "ndjson"] {
        // `--limit` follows pages and prints decoded devices; without it the service's text
        // is printed as it streams in.
        let streamed = cli.run(&["device", "list", "-o", format]).success();
        let paged = cli
            .run(&["device", "list", "--limit", "1000", "-o", format])
            .success();
        assert_eq!(streamed.stdout, paged.stdout, "-o {format}");
        assert!(streamed.stdout.contains("rich"), "{}", streamed.stdout);
    }
    let empty = cli
        .run(&[
            "device",
            "list",
            "--all",
            "--tag",
            "site:nowhere",
            "-o",
            "json",
        ])
        .success();
    assert_eq!(empty.stdout, "[]\n");
}

/// Without `limit` a walk reads steps of 1,000 devices: a list of a few steps arrives whole, in
/// order, each device once across the step boundaries, as the pages of 1,000 have it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_without_a_limit_crosses_its_steps_whole() {
    let (server, _cli) = crate::bulk_support::setup(2_345);
    let api = Api::with_server(server);
    let stream = streamed(&api, "").await;
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = api.get(&format!("/v1/devices?limit=1000{cursor}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages.extend(page.body["data"].as_array().expect("data").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(stream.len(), 2_345);
    assert_eq!(stream, pages);
    let ids: Vec<&str> = stream
        .iter()
        .map(|d| d["id"].as_str().expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, each once");
}
