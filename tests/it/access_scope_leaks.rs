//! A product-scoped key learns nothing about other products through refusals: no other
//! product's name or ID, no other product's cohort, and the same answer whether a value is held
//! in a product outside its scope or nowhere (or, for values unique in the organization, the
//! same answer whichever hidden product holds it). Keys without a scope keep the helpful
//! messages that name where things are.

use reqwest::Method;
use serde_json::{Value, json};

use crate::access_support::{call, key};
use crate::api_support::{Api, Resp};

/// A cohort ID no cohort has.
const NO_COHORT: &str = "coh_00000000000000000000000000000000";

/// The service as a scoped key meets it: products `mine` (in scope, device `my-dev`, cohort
/// `mine-c`), `theirs` (device `their-dev`, cohort `secret-cohort`) and `others` (device
/// `other-dev`), and a write key scoped to `mine`.
struct World {
    api: Api,
    scoped: String,
    /// What must never reach the scoped key: `theirs`' and `others`' names and IDs, and
    /// `theirs`' cohort's name and ID.
    secrets: Vec<String>,
    their_cohort_id: String,
}

impl World {
    async fn new() -> World {
        let api = Api::start();
        api.product("mine").await;
        let theirs = api.product("theirs").await;
        let others = api.product("others").await;
        api.cohort("mine", "mine-c").await;
        let cohort = api.cohort("theirs", "secret-cohort").await;
        for (identifier, product) in [
            ("my-dev", "mine"),
            ("their-dev", "theirs"),
            ("other-dev", "others"),
        ] {
            api.device(json!({ "identifier": identifier, "product": product }))
                .await;
        }
        let (scoped, _) = key(&api, "scoped", "write", Some(&["mine"])).await;
        let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
        World {
            secrets: vec![
                "theirs".into(),
                id(&theirs),
                "others".into(),
                id(&others),
                "secret-cohort".into(),
                id(&cohort),
            ],
            their_cohort_id: id(&cohort),
            api,
            scoped,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Value) -> Resp {
        call(&self.api, &self.scoped, method, path, Some(body)).await
    }

    /// Asserts the answer names nothing of the hidden products beyond the values the request
    /// itself `named`.
    #[track_caller]
    fn assert_hides(&self, resp: &Resp, named: &[&str]) {
        let mut text = resp.body.to_string();
        for value in named {
            text = text.replace(&format!("`{value}`"), "`X`");
        }
        for secret in &self.secrets {
            assert!(!text.contains(secret.as_str()), "`{secret}` leaked: {text}");
        }
    }

    /// [`World::assert_hides`], and the answer does not say the value exists somewhere.
    #[track_caller]
    fn assert_refuses_silently(&self, resp: &Resp, named: &[&str]) {
        self.assert_hides(resp, named);
        let lower = resp.body.to_string().to_lowercase();
        let text = &resp.body;
        for word in ["exist", "another product", "belongs to"] {
            assert!(!lower.contains(word), "says `{word}`: {text}");
        }
    }
}

/// The body with `from` replaced by `to` everywhere, to compare two answers that differ only in
/// the value the request named. The devices a dry run would create are left out: their IDs are
/// new each time.
fn replaced(resp: &Resp, from: &str, to: &str) -> String {
    let mut body = resp.body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("devices");
    }
    body.to_string().replace(from, to)
}

#[tokio::test]
async fn creating_a_device_with_an_identifier_held_elsewhere_is_refused_without_saying_so() {
    let w = World::new().await;
    let create = |identifier: &str| json!({ "identifier": identifier, "product": "mine" });
    let theirs = w
        .call(Method::POST, "/v1/devices", create("their-dev"))
        .await;
    theirs.assert_error(403, "forbidden");
    w.assert_refuses_silently(&theirs, &[]);
    assert!(theirs.message().contains("their-dev"), "{}", theirs.body);
    // The same refusal whichever hidden product holds the identifier.
    let others = w
        .call(Method::POST, "/v1/devices", create("other-dev"))
        .await;
    assert_eq!(others.status, 403);
    assert_eq!(
        replaced(&theirs, "their-dev", "X"),
        replaced(&others, "other-dev", "X")
    );
    // A device the key sees is named as it was: it can look it up.
    let mine = w.call(Method::POST, "/v1/devices", create("my-dev")).await;
    mine.assert_error(409, "conflict");
    assert!(mine.message().contains("already exists"), "{}", mine.body);
    // A key without a scope keeps the helpful answer.
    let org_wide = w.api.post("/v1/devices", create("their-dev")).await;
    org_wide.assert_error(409, "conflict");
    assert!(org_wide.message().contains("already exists"));
}

#[tokio::test]
async fn a_cohort_of_another_product_in_a_device_body_looks_missing() {
    let w = World::new().await;
    let hidden = w.their_cohort_id.clone();
    let new = |cohort: &str| json!({ "identifier": "new-1", "product": "mine", "cohort": cohort });
    let a = w.call(Method::POST, "/v1/devices", new(&hidden)).await;
    let b = w.call(Method::POST, "/v1/devices", new(NO_COHORT)).await;
    a.assert_error(422, "validation_failed");
    w.assert_refuses_silently(&a, &[&hidden]);
    assert_eq!(replaced(&a, &hidden, "X"), replaced(&b, NO_COHORT, "X"));

    let patch = |cohort: &str| json!({ "cohort": cohort });
    let a = w
        .call(Method::PATCH, "/v1/devices/my-dev", patch(&hidden))
        .await;
    let b = w
        .call(Method::PATCH, "/v1/devices/my-dev", patch(NO_COHORT))
        .await;
    a.assert_error(422, "validation_failed");
    assert_eq!(a.body["fields"][0]["field"], "cohort");
    w.assert_refuses_silently(&a, &[&hidden]);
    assert_eq!(replaced(&a, &hidden, "X"), replaced(&b, NO_COHORT, "X"));

    // Without a scope the answer says where the cohort is.
    let org_wide = w
        .api
        .patch("/v1/devices/my-dev", patch(&w.their_cohort_id))
        .await;
    org_wide.assert_error(422, "validation_failed");
    assert!(org_wide.message().contains("theirs"), "{}", org_wide.body);
}

#[tokio::test]
async fn an_import_refuses_identifiers_held_elsewhere_without_naming_the_product() {
    let w = World::new().await;
    let import = |identifier: &str, dry_run: bool| {
        json!({ "product": "mine", "dry_run": dry_run,
                "devices": [{ "identifier": "fresh-1" }, { "identifier": identifier }] })
    };
    let plan = w
        .call(Method::POST, "/v1/bulk/import", import("their-dev", true))
        .await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    w.assert_refuses_silently(&plan, &[]);
    assert_eq!(plan.body["refused"], 1);
    assert_eq!(plan.body["refusals"][0]["device"], "their-dev");
    let other = w
        .call(Method::POST, "/v1/bulk/import", import("other-dev", true))
        .await;
    assert_eq!(
        replaced(&plan, "their-dev", "X"),
        replaced(&other, "other-dev", "X")
    );

    let run = w
        .call(Method::POST, "/v1/bulk/import", import("their-dev", false))
        .await;
    run.assert_error(409, "conflict");
    w.assert_refuses_silently(&run, &[]);
    assert_eq!(run.body["fields"][0]["field"], "line 2");
    let other = w
        .call(Method::POST, "/v1/bulk/import", import("other-dev", false))
        .await;
    assert_eq!(
        replaced(&run, "their-dev", "X"),
        replaced(&other, "other-dev", "X")
    );

    // Without a scope the plan says where the device is.
    let org_wide = w
        .api
        .post("/v1/bulk/import", import("their-dev", true))
        .await;
    let reason = org_wide.body["refusals"][0]["reason"].to_string();
    assert!(reason.contains("theirs"), "{}", org_wide.body);
}

/// A bulk write naming a product outside the scope gets what one naming no product gets.
#[tokio::test]
async fn bulk_writes_into_a_hidden_product_look_like_writes_into_none() {
    let w = World::new().await;
    let bodies = |product: &str| {
        [
            (
                "/v1/bulk/import",
                json!({ "product": product, "devices": [{ "identifier": "x-1" }] }),
            ),
            (
                "/v1/bulk/move",
                json!({ "to_product": product, "selection": { "devices": ["my-dev"] } }),
            ),
            (
                "/v1/bulk/assign",
                json!({ "product": product, "cohort": "c", "selection": { "devices": ["my-dev"] } }),
            ),
        ]
    };
    for ((path, hidden), (_, absent)) in bodies("theirs").into_iter().zip(bodies("nosuch")) {
        let a = w.call(Method::POST, path, hidden).await;
        let b = w.call(Method::POST, path, absent).await;
        a.assert_error(403, "forbidden");
        assert_eq!(
            replaced(&a, "theirs", "X"),
            replaced(&b, "nosuch", "X"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn renaming_a_product_to_a_hidden_products_name_is_refused_without_saying_it_exists() {
    let w = World::new().await;
    let rename = |name: &str| json!({ "name": name });
    let theirs = w
        .call(Method::PATCH, "/v1/products/mine", rename("theirs"))
        .await;
    theirs.assert_error(403, "forbidden");
    // The body names only what the request named.
    let text = replaced(&theirs, "`theirs`", "`X`");
    assert!(
        !text.contains("theirs") && !text.contains("exist"),
        "{text}"
    );
    for secret in &w.secrets[1..] {
        assert!(!text.contains(secret.as_str()), "`{secret}` leaked: {text}");
    }
    let others = w
        .call(Method::PATCH, "/v1/products/mine", rename("others"))
        .await;
    assert_eq!(text, replaced(&others, "`others`", "`X`"));
    // Without a scope: the name is taken, and it says so.
    let org_wide = w.api.patch("/v1/products/mine", rename("theirs")).await;
    org_wide.assert_error(409, "conflict");
    assert!(org_wide.message().contains("already exists"));
}

/// A request about a hidden thing and the same request about a missing one: method, the two
/// paths, the two bodies.
type Pair = (Method, String, String, Option<Value>, Option<Value>);

/// Paths that already answered a hidden resource like a missing one, kept that way.
#[tokio::test]
async fn lookups_selections_and_filters_treat_hidden_as_missing() {
    let w = World::new().await;
    let hidden = w.their_cohort_id.clone();
    let pairs: Vec<Pair> = vec![
        (
            Method::GET,
            "/v1/products/theirs/cohorts/secret-cohort".into(),
            "/v1/products/nosuch/cohorts/secret-cohort".into(),
            None,
            None,
        ),
        (
            Method::GET,
            format!("/v1/products/mine/cohorts/{hidden}"),
            format!("/v1/products/mine/cohorts/{NO_COHORT}"),
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/events?product=theirs".into(),
            "/v1/events?product=nosuch".into(),
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/cohorts?product=theirs".into(),
            "/v1/cohorts?product=nosuch".into(),
            None,
            None,
        ),
        (
            Method::GET,
            format!("/v1/devices?cohort={hidden}"),
            format!("/v1/devices?cohort={NO_COHORT}"),
            None,
            None,
        ),
        (
            Method::POST,
            "/v1/bulk/unassign".into(),
            "/v1/bulk/unassign".into(),
            Some(json!({ "dry_run": true, "selection": { "devices": ["their-dev"] } })),
            Some(json!({ "dry_run": true, "selection": { "devices": ["nosuch"] } })),
        ),
        (
            Method::POST,
            "/v1/bulk/move".into(),
            "/v1/bulk/move".into(),
            Some(json!({ "to_product": "mine", "selection": { "devices": ["their-dev"] } })),
            Some(json!({ "to_product": "mine", "selection": { "devices": ["nosuch"] } })),
        ),
        (
            Method::POST,
            "/v1/bulk/assign".into(),
            "/v1/bulk/assign".into(),
            Some(
                json!({ "dry_run": true, "product": "mine", "cohort": "mine-c",
                         "selection": { "cohort": hidden } }),
            ),
            Some(
                json!({ "dry_run": true, "product": "mine", "cohort": "mine-c",
                         "selection": { "cohort": NO_COHORT } }),
            ),
        ),
    ];
    for (method, hidden_path, absent_path, hidden_body, absent_body) in pairs {
        let a = call(&w.api, &w.scoped, method.clone(), &hidden_path, hidden_body).await;
        let b = call(&w.api, &w.scoped, method, &absent_path, absent_body).await;
        w.assert_hides(&a, &["theirs", "secret-cohort", &hidden]);
        assert_eq!(
            a.status, b.status,
            "{hidden_path}: {} vs {}",
            a.body, b.body
        );
        let normalize = |r: &Resp| {
            r.body
                .to_string()
                .replace(&hidden, "X")
                .replace(NO_COHORT, "X")
                .replace("their-dev", "X")
                .replace("theirs", "X")
                .replace("nosuch", "X")
        };
        assert_eq!(normalize(&a), normalize(&b), "{hidden_path}");
    }
}

#[tokio::test]
async fn a_scoped_admin_cannot_tell_hidden_products_from_missing_ones_when_creating_keys() {
    let api = Api::start();
    api.product("mine").await;
    let theirs = api.product("theirs").await;
    let (admin, _) = key(&api, "scoped-admin", "admin", Some(&["mine"])).await;
    let create = |product: &str| json!({ "name": "k", "role": "read", "products": [product] });
    let a = call(
        &api,
        &admin,
        Method::POST,
        "/v1/api-keys",
        Some(create("theirs")),
    )
    .await;
    let b = call(
        &api,
        &admin,
        Method::POST,
        "/v1/api-keys",
        Some(create("nosuch")),
    )
    .await;
    a.assert_error(403, "forbidden");
    assert_eq!(replaced(&a, "theirs", "X"), replaced(&b, "nosuch", "X"));
    let theirs_id = theirs["id"].as_str().expect("id");
    let c = call(
        &api,
        &admin,
        Method::POST,
        "/v1/api-keys",
        Some(create(theirs_id)),
    )
    .await;
    assert_eq!(replaced(&c, theirs_id, "X"), replaced(&b, "nosuch", "X"));
}

/// A device an org-wide key moves into the scope from a hidden product: the scoped key sees the
/// move, not where the device came from.
#[tokio::test]
async fn a_move_event_does_not_name_the_hidden_product_a_device_came_from() {
    let w = World::new().await;
    let moved = w
        .api
        .post(
            "/v1/bulk/move",
            json!({ "to_product": "mine", "selection": { "devices": ["their-dev"] } }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    // The device's history: the bulk move's event, with the device's facts.
    let device = moved.body["devices"][0]["id"].as_str().unwrap_or("?");
    let path = &format!("/v1/events?action=device.moved&resource={device}");
    let seen = call(&w.api, &w.scoped, Method::GET, path, None).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let events = seen.body["data"].as_array().expect("data");
    assert_eq!(events.len(), 1, "{}", seen.body);
    assert_eq!(events[0]["details"]["identifier"], "their-dev");
    assert_eq!(events[0]["details"]["to_product"], "mine");
    assert!(events[0]["details"]["from_product"].is_null());
    w.assert_hides(&seen, &[]);
    // The org-wide key still sees both ends of the move.
    let all = w.api.get(path).await;
    assert_eq!(all.body["data"][0]["details"]["from_product"], "theirs");
}

/// Firmware addressed by ID (binaries) or naming other firmware (bundles): a hidden binary is a
/// missing one.
#[tokio::test]
async fn firmware_of_a_hidden_product_looks_missing() {
    let w = World::new().await;
    let mut binary = String::new();
    for product in ["mine", "theirs"] {
        let base = format!("/v1/products/{product}/artifacts");
        let artifact = w.api.post(&base, json!({ "name": "app" })).await;
        assert_eq!(artifact.status, 201, "{}", artifact.body);
        let version = w
            .api
            .post(&format!("{base}/app/versions"), json!({ "version": "1.0" }))
            .await;
        assert_eq!(version.status, 201, "{}", version.body);
        let declared = w
            .api
            .post(
                &format!("{base}/app/versions/1.0/binaries"),
                json!({ "target": "armv7", "size": 3, "sha256": "a".repeat(64) }),
            )
            .await;
        assert_eq!(declared.status, 201, "{}", declared.body);
        binary = declared.body["binary"]["id"]
            .as_str()
            .expect("binary id")
            .to_owned();
    }
    let hidden = binary;
    let absent = "bin_00000000000000000000000000000000";
    let pairs: Vec<Pair> = vec![
        (
            Method::GET,
            format!("/v1/binaries/{hidden}"),
            format!("/v1/binaries/{absent}"),
            None,
            None,
        ),
        (
            Method::GET,
            format!("/v1/binaries/{hidden}/parts"),
            format!("/v1/binaries/{absent}/parts"),
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/binaries?product=theirs".into(),
            "/v1/binaries?product=nosuch".into(),
            None,
            None,
        ),
        (
            Method::POST,
            "/v1/products/mine/bundles".into(),
            "/v1/products/mine/bundles".into(),
            Some(json!({ "name": "b", "binaries": [hidden] })),
            Some(json!({ "name": "b", "binaries": [absent] })),
        ),
    ];
    for (method, hidden_path, absent_path, hidden_body, absent_body) in pairs {
        let a = call(&w.api, &w.scoped, method.clone(), &hidden_path, hidden_body).await;
        let b = call(&w.api, &w.scoped, method, &absent_path, absent_body).await;
        w.assert_hides(&a, &["theirs"]);
        assert_eq!(a.status, 404, "{hidden_path}: {}", a.body);
        let normalize = |r: &Resp| {
            r.body
                .to_string()
                .replace(&hidden, "X")
                .replace(absent, "X")
                .replace("theirs", "X")
                .replace("nosuch", "X")
        };
        assert_eq!(normalize(&a), normalize(&b), "{hidden_path}");
    }
}
