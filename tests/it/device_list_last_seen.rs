//! `GET /v1/devices?sort=last_seen` and `fleet device list --sort last-seen`: newest check-in
//! first, equal check-in times by ID, devices never seen last (by ID); pages of any size walk
//! every device exactly once, the cursor carrying the check-in time exactly.

use serde_json::Value;

use crate::common::backend;
use crate::device_updates_support::{Fleet, check_in, setup};

/// The device IDs by identifier, from `fleet device list`.
fn ids(fleet: &Fleet) -> std::collections::HashMap<String, String> {
    let out = fleet
        .cli
        .run(&["device", "list", "--all", "-o", "json"])
        .success()
        .json();
    out.as_array()
        .expect("array")
        .iter()
        .map(|d| {
            (
                d["identifier"].as_str().expect("identifier").to_owned(),
                d["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

/// Sets a device's last check-in time (the writer stamps the time of the check-in; the test
/// needs chosen, partly equal times).
fn set_last_seen(fleet: &Fleet, id: &str, time: &str) {
    backend::execute(
        &fleet.server.storage,
        &format!("UPDATE device_status SET last_seen_at = '{time}' WHERE device_id = '{id}'"),
    );
}

/// GETs `path` with the admin key: status and JSON body.
async fn get(fleet: &Fleet, path: &str) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .get(format!("{}{path}", fleet.server.url))
        .bearer_auth(&fleet.server.api_key)
        .send()
        .await
        .expect("request");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON body"))
}

/// Every page of `/v1/devices?sort=last_seen&limit=LIMIT`: the identifiers in page order.
async fn walk(fleet: &Fleet, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = format!("/v1/devices?sort=last_seen&limit={limit}");
    loop {
        let (status, page) = get(fleet, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let items = page["data"].as_array().expect("data");
        assert!(items.len() <= limit as usize, "{page}");
        seen.extend(
            items
                .iter()
                .map(|d| d["identifier"].as_str().expect("identifier").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/devices?sort=last_seen&limit={limit}&cursor={cursor}")
            }
            None => break,
        }
        assert!(seen.len() <= 20, "the walk does not end: {seen:?}");
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_by_last_seen_walk_every_device_once_newest_first() {
    let fleet = setup();
    for identifier in ["sn-a", "sn-b", "sn-c", "sn-d", "sn-e"] {
        let mut conn = fleet.device(identifier).await;
        let answer = check_in(&mut conn, None).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    for identifier in ["sn-n1", "sn-n2", "sn-n3"] {
        fleet
            .cli
            .run(&["device", "create", identifier, "--product", "sensor"])
            .success();
    }
    let ids = ids(&fleet);
    // The newest check-in is the last created device's and the oldest the first's, so the
    // order is not creation order; sn-a is one microsecond older than the three equal ones,
    // so the cursor must keep the fraction exactly.
    set_last_seen(&fleet, &ids["sn-e"], "2026-01-01T10:00:03+00:00");
    for identifier in ["sn-b", "sn-c", "sn-d"] {
        set_last_seen(&fleet, &ids[identifier], "2026-01-01T10:00:02.123456+00:00");
    }
    set_last_seen(&fleet, &ids["sn-a"], "2026-01-01T10:00:02.123455+00:00");

    let by_id = |group: &[&str]| {
        let mut group: Vec<&str> = group.to_vec();
        group.sort_by_key(|identifier| ids[*identifier].clone());
        group.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let mut expected = vec!["sn-e".to_owned()];
    expected.extend(by_id(&["sn-b", "sn-c", "sn-d"]));
    expected.push("sn-a".to_owned());
    expected.extend(by_id(&["sn-n1", "sn-n2", "sn-n3"]));

    for limit in [1, 2, 3] {
        assert_eq!(walk(&fleet, limit).await, expected, "pages of {limit}");
    }
    assert_eq!(walk(&fleet, 100).await, expected, "one page");

    let out = fleet
        .cli
        .run(&[
            "device",
            "list",
            "--sort",
            "last-seen",
            "--all",
            "-o",
            "json",
        ])
        .success()
        .json();
    let listed: Vec<&str> = out
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["identifier"].as_str().expect("identifier"))
        .collect();
    assert_eq!(listed, expected, "the CLI lists in the same order");

    // A cursor of the other order is refused, not misread.
    let (status, body) = get(
        &fleet,
        &format!("/v1/devices?sort=last_seen&cursor={}", ids["sn-e"]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "cursor", "{body}");
    let (status, body) = get(&fleet, "/v1/devices?sort=last_seen&limit=1").await;
    assert_eq!(status, 200, "{body}");
    let cursor = body["next_cursor"].as_str().expect("a next page");
    let (status, body) = get(&fleet, &format!("/v1/devices?cursor={cursor}")).await;
    assert_eq!(status, 422, "{body}");
    // Beyond the declared signed 64-bit range: refused, not read as "ever".
    let (status, body) = get(&fleet, "/v1/devices?seen_within_s=9223372036854775808").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "seen_within_s", "{body}");
}
