//! The role × endpoint matrix: every route the service documents is called with an admin, a
//! write and a read key, a write key scoped to the target product ("in") and one scoped to
//! another product ("out"), and each status is asserted. The route list comes from the served
//! OpenAPI document, so a new route without a row here fails the test; the document is derived
//! from the same route registry as the router (the unit tests of `server::routes` hold them
//! equal), so every served route has a row.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use crate::access_support::{call, key};
use crate::api_support::Api;

const COLUMNS: [&str; 5] = ["admin", "write", "read", "in", "out"];

/// (method, route, expected status per column in `COLUMNS` order).
const MATRIX: &[(&str, &str, [u16; 5])] = &[
    ("GET", "/v1/health", [200, 200, 200, 200, 200]),
    ("GET", "/v1/openapi.json", [200, 200, 200, 200, 200]),
    ("GET", "/v1/whoami", [200, 200, 200, 200, 200]),
    ("GET", "/v1/products", [200, 200, 200, 200, 200]),
    ("POST", "/v1/products", [201, 201, 403, 403, 403]),
    ("GET", "/v1/products/{product}", [200, 200, 200, 200, 404]),
    ("PATCH", "/v1/products/{product}", [200, 200, 403, 200, 404]),
    (
        "DELETE",
        "/v1/products/{product}",
        [204, 204, 403, 403, 403],
    ),
    (
        "GET",
        "/v1/products/{product}/cohorts",
        [200, 200, 200, 200, 404],
    ),
    (
        "POST",
        "/v1/products/{product}/cohorts",
        [201, 201, 403, 201, 404],
    ),
    (
        "GET",
        "/v1/products/{product}/cohorts/{cohort}",
        [200, 200, 200, 200, 404],
    ),
    (
        "PATCH",
        "/v1/products/{product}/cohorts/{cohort}",
        [200, 200, 403, 200, 404],
    ),
    (
        "DELETE",
        "/v1/products/{product}/cohorts/{cohort}",
        [204, 204, 403, 204, 404],
    ),
    ("GET", "/v1/cohorts", [200, 200, 200, 200, 200]),
    ("GET", "/v1/devices", [200, 200, 200, 200, 200]),
    ("POST", "/v1/devices", [201, 201, 403, 201, 403]),
    ("GET", "/v1/devices/{device}", [200, 200, 200, 200, 404]),
    (
        "GET",
        "/v1/devices/{device}/status",
        [200, 200, 200, 200, 404],
    ),
    ("PATCH", "/v1/devices/{device}", [200, 200, 403, 200, 404]),
    ("DELETE", "/v1/devices/{device}", [204, 204, 403, 204, 404]),
    ("GET", "/v1/events", [200, 200, 200, 200, 200]),
    ("GET", "/v1/api-keys", [200, 403, 403, 403, 403]),
    ("POST", "/v1/api-keys", [201, 403, 403, 403, 403]),
    ("GET", "/v1/api-keys/{key}", [200, 403, 403, 403, 403]),
    (
        "POST",
        "/v1/api-keys/{key}/revoke",
        [200, 403, 403, 403, 403],
    ),
    ("POST", "/v1/bulk/move", [200, 200, 403, 200, 403]),
    ("POST", "/v1/bulk/assign", [200, 200, 403, 200, 403]),
    ("POST", "/v1/bulk/unassign", [200, 200, 403, 200, 409]),
    ("POST", "/v1/bulk/import", [200, 200, 403, 200, 403]),
    ("POST", "/v1/bulk/config", [200, 200, 403, 200, 403]),
    // Firmware (issue 4).
    ("GET", "/v1/products/{product}/artifacts", READ),
    ("POST", "/v1/products/{product}/artifacts", CREATE),
    ("GET", "/v1/products/{product}/artifacts/{artifact}", READ),
    (
        "GET",
        "/v1/products/{product}/artifacts/{artifact}/versions",
        READ,
    ),
    (
        "POST",
        "/v1/products/{product}/artifacts/{artifact}/versions",
        CREATE,
    ),
    (
        "GET",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}",
        READ,
    ),
    (
        "POST",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}/binaries",
        CREATE,
    ),
    ("GET", "/v1/products/{product}/firmware-policy", READ),
    (
        "PUT",
        "/v1/products/{product}/firmware-policy",
        [200, 403, 403, 403, 403],
    ),
    ("GET", "/v1/products/{product}/bundles", READ),
    ("POST", "/v1/products/{product}/bundles", CREATE),
    ("GET", "/v1/products/{product}/bundles/{bundle}", READ),
    ("GET", "/v1/products/{product}/releases", READ),
    ("POST", "/v1/products/{product}/releases", CREATE),
    ("GET", "/v1/products/{product}/releases/{release}", READ),
    (
        "PATCH",
        "/v1/products/{product}/releases/{release}",
        [200, 200, 403, 200, 404],
    ),
    (
        "POST",
        "/v1/products/{product}/releases/{release}/halt",
        [200, 200, 403, 200, 404],
    ),
    (
        "POST",
        "/v1/products/{product}/releases/{release}/resume",
        [200, 200, 403, 200, 404],
    ),
    (
        "POST",
        "/v1/products/{product}/releases/{release}/promote",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/products/{product}/stats", READ),
    ("GET", "/v1/products/{product}/cohorts/{cohort}/stats", READ),
    (
        "GET",
        "/v1/products/{product}/releases/{release}/stats",
        READ,
    ),
    ("GET", "/v1/binaries", READ),
    ("GET", "/v1/binaries/{binary}", READ),
    ("DELETE", "/v1/binaries/{binary}", [204, 204, 403, 204, 404]),
    ("GET", "/v1/binaries/{binary}/parts", READ),
    (
        "PUT",
        "/v1/binaries/{binary}/parts/{number}",
        [200, 200, 403, 200, 404],
    ),
    (
        "POST",
        "/v1/binaries/{binary}/complete",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/binaries/{binary}/download", READ),
    ("POST", "/v1/binaries/{binary}/signatures", CREATE),
    ("GET", "/v1/signing-keys", [200, 200, 200, 200, 200]),
    ("POST", "/v1/signing-keys", [201, 201, 403, 403, 403]),
    ("GET", "/v1/signing-keys/{key}", [200, 200, 200, 200, 200]),
    (
        "DELETE",
        "/v1/signing-keys/{key}",
        [204, 403, 403, 403, 403],
    ),
    // Identity (issue 11): certificate authorities and device certificates.
    ("GET", "/v1/cas", [200, 200, 200, 200, 200]),
    ("GET", "/v1/products/{product}/cas", READ),
    ("POST", "/v1/products/{product}/cas", CREATE),
    ("GET", "/v1/products/{product}/cas/{ca}", READ),
    (
        "PATCH",
        "/v1/products/{product}/cas/{ca}",
        [200, 200, 403, 200, 404],
    ),
    (
        "DELETE",
        "/v1/products/{product}/cas/{ca}",
        [204, 204, 403, 204, 404],
    ),
    ("GET", "/v1/devices/{device}/certificates", READ),
    ("POST", "/v1/devices/{device}/certificates", CREATE),
    (
        "POST",
        "/v1/devices/{device}/certificates/{cert}/revoke",
        [200, 200, 403, 200, 404],
    ),
    // Configurations (issue 13).
    ("GET", "/v1/products/{product}/config", READ),
    (
        "PUT",
        "/v1/products/{product}/config",
        [200, 200, 403, 200, 404],
    ),
    (
        "PATCH",
        "/v1/products/{product}/config",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/products/{product}/config/revisions", READ),
    ("GET", "/v1/products/{product}/config/diff", READ),
    (
        "POST",
        "/v1/products/{product}/config/rollback",
        [200, 200, 403, 200, 404],
    ),
    (
        "GET",
        "/v1/products/{product}/cohorts/{cohort}/config",
        READ,
    ),
    (
        "PUT",
        "/v1/products/{product}/cohorts/{cohort}/config",
        [200, 200, 403, 200, 404],
    ),
    (
        "PATCH",
        "/v1/products/{product}/cohorts/{cohort}/config",
        [200, 200, 403, 200, 404],
    ),
    (
        "GET",
        "/v1/products/{product}/cohorts/{cohort}/config/revisions",
        READ,
    ),
    (
        "GET",
        "/v1/products/{product}/cohorts/{cohort}/config/diff",
        READ,
    ),
    (
        "POST",
        "/v1/products/{product}/cohorts/{cohort}/config/rollback",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/devices/{device}/config", READ),
    (
        "PUT",
        "/v1/devices/{device}/config",
        [200, 200, 403, 200, 404],
    ),
    (
        "PATCH",
        "/v1/devices/{device}/config",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/devices/{device}/config/revisions", READ),
    ("GET", "/v1/devices/{device}/config/diff", READ),
    (
        "POST",
        "/v1/devices/{device}/config/rollback",
        [200, 200, 403, 200, 404],
    ),
    ("GET", "/v1/products/{product}/config/schema", READ),
    (
        "PUT",
        "/v1/products/{product}/config/schema",
        [200, 200, 403, 200, 404],
    ),
    (
        "DELETE",
        "/v1/products/{product}/config/schema",
        [200, 200, 403, 200, 404],
    ),
];

/// A product-scoped read, and a create in a product (firmware rows).
const READ: [u16; 5] = [200, 200, 200, 200, 404];
const CREATE: [u16; 5] = [201, 201, 403, 201, 404];

/// Lists whose items must include the target product's things for every column but "out".
const FILTERED_LISTS: &[&str] = &[
    "/v1/products",
    "/v1/cohorts",
    "/v1/devices",
    "/v1/events",
    "/v1/binaries",
    "/v1/cas",
];

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Fresh resources for one cell: target product `p` (cohort `c`, device `d`), an empty product
/// `e` in the same scope, another product `q`, and a read key `k` to show or revoke.
struct Fixture {
    n: usize,
    p: Value,
    e: String,
    q: String,
    c: String,
    d: String,
    k: String,
    /// Firmware of `p` (for firmware routes only).
    fw: Option<crate::firmware_matrix::FwFixture>,
    /// A CA of `p` and a certificate of `d` under it (for identity routes only).
    ident: Option<Ident>,
}

struct Ident {
    _dir: tempfile::TempDir,
    ca: fleet::pki::CaDir,
    cert: String,
}

fn is_identity(route: &str) -> bool {
    route.starts_with("/v1/cas") || route.contains("/cas") || route.contains("/certificates")
}

async fn ident(api: &Api, product: &str, device: &str) -> Ident {
    let dir = tempfile::tempdir().expect("dir");
    let ca = crate::ident_support::ca_dir(dir.path(), "matrix");
    crate::ident_support::add_ca(api, product, "a", &ca.cert_pem).await;
    let pem = crate::ident_support::device_cert(&ca, device);
    let cert = crate::ident_support::add_cert(api, device, &pem).await;
    Ident {
        _dir: dir,
        ca,
        cert: cert["id"].as_str().expect("id").to_owned(),
    }
}

async fn fixture(api: &Api, route: &str) -> Fixture {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let p = api.product(&format!("p{n}")).await;
    let e = format!("e{n}");
    api.product(&e).await;
    let q = format!("q{n}");
    api.product(&q).await;
    let c = format!("c{n}");
    api.cohort(&format!("p{n}"), &c).await;
    let d = format!("d{n}");
    api.device(json!({ "identifier": d, "product": format!("p{n}") }))
        .await;
    let (_, k) = key(api, &format!("k{n}"), "read", None).await;
    if route.contains("/config") {
        crate::config_support::configure_fixture(api, &format!("p{n}"), &c, &d).await;
    }
    let fw = if crate::firmware_matrix::is_firmware(route) {
        Some(crate::firmware_matrix::fixture(api, n, &format!("p{n}"), &c).await)
    } else {
        None
    };
    let ident = if is_identity(route) {
        Some(ident(api, &format!("p{n}"), &d).await)
    } else {
        None
    };
    Fixture {
        n,
        p,
        e,
        q,
        c,
        d,
        k,
        fw,
        ident,
    }
}

/// The concrete path and body for `route` on fixture `f`.
fn request(method: &str, route: &str, f: &Fixture) -> (String, Option<Value>) {
    if let Some(fw) = &f.fw {
        let p = f.p["name"].as_str().unwrap_or_default();
        return crate::firmware_matrix::request(method, route, f.n, p, &f.c, fw);
    }
    let n = f.n;
    let p = f.p["name"].as_str().unwrap_or_default().to_owned();
    // Deleting a product needs one without devices: the empty one.
    let product = if (method, route) == ("DELETE", "/v1/products/{product}") {
        f.e.clone()
    } else {
        p.clone()
    };
    // Events pile up across cells; ask for the target product's own.
    let query = if route == "/v1/events" {
        format!("?resource={}", f.p["id"].as_str().unwrap_or_default())
    } else if route.ends_with("/config/diff") {
        "?from=0".to_owned()
    } else {
        String::new()
    };
    let path = route
        .replace("{product}", &product)
        .replace("{cohort}", &f.c)
        .replace("{device}", &f.d)
        .replace("{key}", &f.k)
        .replace("{ca}", "a")
        .replace("{cert}", f.ident.as_ref().map_or("", |i| i.cert.as_str()))
        + &query;
    let devices = json!({ "devices": [f.d] });
    let body = match (method, route) {
        ("GET" | "DELETE", _) | ("POST", "/v1/api-keys/{key}/revoke") => None,
        ("POST", "/v1/products") => Some(json!({ "name": format!("new{n}") })),
        ("POST", "/v1/products/{product}/cohorts") => Some(json!({ "name": format!("nc{n}") })),
        ("POST", "/v1/products/{product}/cas") => Some(json!({
            "name": format!("na{n}"),
            "certificate": crate::ident_support::ca(&format!("na{n}")).cert_pem,
        })),
        ("PATCH", "/v1/products/{product}/cas/{ca}") => Some(json!({ "enabled": false })),
        ("POST", "/v1/devices/{device}/certificates") => {
            let ca = &f.ident.as_ref().expect("identity fixture").ca;
            Some(json!({ "certificate": crate::ident_support::device_cert(ca, &f.d) }))
        }
        ("POST", "/v1/devices/{device}/certificates/{cert}/revoke") => {
            Some(json!({ "reason": "matrix" }))
        }
        ("POST", "/v1/devices") => Some(json!({ "identifier": format!("nd{n}"), "product": p })),
        ("PUT", "/v1/products/{product}/config/schema") => {
            Some(json!({ "schema": { "type": "object" } }))
        }
        ("PUT", r) if r.ends_with("/config") => Some(json!({ "document": { "a": 2 } })),
        ("PATCH", r) if r.ends_with("/config") => Some(json!({ "set": { "a": 3 } })),
        ("POST", r) if r.ends_with("/config/rollback") => Some(json!({ "revision": 1 })),
        ("PATCH", _) => Some(json!({ "description": "changed" })),
        ("POST", "/v1/api-keys") => Some(json!({ "name": format!("nk{n}"), "role": "read" })),
        ("POST", "/v1/bulk/move") => Some(json!({ "selection": devices, "to_product": f.e })),
        ("POST", "/v1/bulk/assign") => {
            Some(json!({ "selection": devices, "product": p, "cohort": f.c }))
        }
        ("POST", "/v1/bulk/unassign") => Some(json!({ "selection": devices })),
        ("POST", "/v1/bulk/config") => Some(json!({
            "selection": devices, "product": p, "set": { "a": n },
        })),
        ("POST", "/v1/bulk/import") => Some(json!({
            "product": p, "devices": [{ "identifier": format!("im{n}") }],
        })),
        _ => panic!("no request body defined for {method} {route}"),
    };
    (path, body)
}

#[tokio::test]
async fn every_route_answers_each_kind_of_key_as_specified() {
    let api = Api::start();
    let doc = api
        .send(api.anonymous(Method::GET, "/v1/openapi.json"))
        .await;
    let served: BTreeSet<(String, String)> = doc.body["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    // Rows for routes that are not served (yet) are skipped, not failed: they are checked as
    // soon as the route exists.

    let (write, _) = key(&api, "writer", "write", None).await;
    let (read, _) = key(&api, "reader", "read", None).await;
    let mut failures = Vec::new();
    for (method, route, expected) in MATRIX {
        if !served.contains(&((*method).to_owned(), (*route).to_owned())) {
            continue;
        }
        for (column, want) in COLUMNS.iter().zip(expected) {
            let f = fixture(&api, route).await;
            let (p_name, p_id) = (
                f.p["name"].as_str().expect("name").to_owned(),
                f.p["id"].as_str().expect("id").to_owned(),
            );
            let secret = match *column {
                "admin" => api.server.api_key.clone(),
                "write" => write.clone(),
                "read" => read.clone(),
                "in" => key(&api, "in", "write", Some(&[&p_name, &f.e])).await.0,
                _ => key(&api, "out", "write", Some(&[&f.q])).await.0,
            };
            let (path, body) = request(method, route, &f);
            let m = Method::from_bytes(method.as_bytes()).expect("method");
            let resp = if route.ends_with("/parts/{number}") {
                crate::firmware_matrix::put_part(&api, &secret, &path).await
            } else {
                call(&api, &secret, m, &path, body).await
            };
            if resp.status != *want {
                failures.push(format!(
                    "{method} {route} as {column}: got {}, want {want} ({})",
                    resp.status, resp.body
                ));
                continue;
            }
            if *method == "GET" && FILTERED_LISTS.contains(route) {
                let shows_target = resp.body.to_string().contains(&p_id);
                if shows_target != (*column != "out") {
                    failures.push(format!(
                        "{method} {route} as {column}: target product visible = {shows_target}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "matrix mismatches:\n{}",
        failures.join("\n")
    );
}

/// Out of scope looks exactly like not there: same status, code and message shape.
#[tokio::test]
async fn out_of_scope_resources_look_missing() {
    let api = Api::start();
    api.product("mine").await;
    api.product("theirs").await;
    api.device(json!({ "identifier": "their-dev", "product": "theirs" }))
        .await;
    let (scoped, _) = key(&api, "scoped", "admin", Some(&["mine"])).await;
    for (hidden, absent) in [
        ("/v1/products/theirs", "/v1/products/nosuch"),
        ("/v1/devices/their-dev", "/v1/devices/nosuch"),
        ("/v1/products/theirs/cohorts", "/v1/products/nosuch/cohorts"),
    ] {
        let a = call(&api, &scoped, Method::GET, hidden, None).await;
        let b = call(&api, &scoped, Method::GET, absent, None).await;
        a.assert_error(404, "not_found");
        b.assert_error(404, "not_found");
        assert_eq!(
            a.message().replace("theirs", "X").replace("their-dev", "X"),
            b.message().replace("nosuch", "X"),
        );
    }
    let list = call(
        &api,
        &scoped,
        Method::GET,
        "/v1/devices?product=theirs",
        None,
    )
    .await;
    list.assert_error(404, "not_found");
    let create = call(
        &api,
        &scoped,
        Method::POST,
        "/v1/devices",
        Some(json!({ "identifier": "x", "product": "nosuch" })),
    )
    .await;
    create.assert_error(403, "forbidden");
}
