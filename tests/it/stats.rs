//! `GET …/stats` of a product, a cohort and a release: every figure equals the count computed
//! here from the raw tables (devices, device_status, device_running, update_reports) of a
//! fleet built by `fleet simulate` (a 30% failure rate, two versions, devices made offline by
//! setting their last check-in), and a key scoped to one product sees its figures only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access_support::{call, key};
use crate::api_support::Api;
use crate::common::backend;
use crate::simulate::{ca_dir, release, rollout_service, simulate_both_outcomes};

/// Simulated devices (identifiers sim-0000…).
const SIMULATED: usize = 12;

/// Rows of `sql` (every column TEXT) against the test server's database.
fn rows(api: &Api, sql: &str) -> Vec<Vec<String>> {
    backend::rows(&api.server.storage, sql)
        .into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

fn number(text: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a count: {text:?}"))
}

/// Sets `identifier`'s last check-in to `at` (the simulator checked in just now; offline
/// devices are made by moving their check-in back).
fn set_last_seen(api: &Api, identifier: &str, at: DateTime<Utc>) {
    let at = at.to_rfc3339_opts(SecondsFormat::Micros, false);
    backend::execute(
        &api.server.storage,
        &format!(
            "UPDATE device_status SET last_seen_at = '{at}' WHERE device_id = \
             (SELECT device_id FROM device_details WHERE identifier = '{identifier}')"
        ),
    );
}

/// Each device of product `sensor` in cohort `cohort` (any with `None`): identifier, cohort
/// name ('' for none), quarantined, needs provisioning, last check-in as Unix seconds ('' when
/// never).
fn devices(api: &Api, cohort: Option<&str>) -> Vec<(String, String, bool, bool, Option<i64>)> {
    let epoch = if backend::is_postgres() {
        "CAST(FLOOR(EXTRACT(EPOCH FROM s.last_seen_at)) AS BIGINT)"
    } else {
        "CAST(strftime('%s', s.last_seen_at) AS INTEGER)"
    };
    let filter = cohort.map_or(String::new(), |c| format!(" AND c.name = '{c}'"));
    rows(
        api,
        &format!(
            "SELECT d.identifier, COALESCE(c.name, ''), \
             CASE WHEN d.quarantined THEN 'y' ELSE 'n' END, \
             CASE WHEN d.needs_provisioning THEN 'y' ELSE 'n' END, \
             COALESCE(CAST({epoch} AS TEXT), '') \
             FROM device_records d JOIN products p ON p.id = d.product_id \
             LEFT JOIN cohorts c ON c.id = d.cohort_id \
             LEFT JOIN device_status s ON s.device_id = d.id WHERE p.name = 'sensor'{filter}"
        ),
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone(),
            r[1].clone(),
            r[2] == "y",
            r[3] == "y",
            r[4].parse().ok(),
        )
    })
    .collect()
}

/// The device and connection figures computed from [`devices`] at `now`, as the answer
/// spells them.
fn expected_counts(
    devices: &[(String, String, bool, bool, Option<i64>)],
    now: DateTime<Utc>,
    online_within_s: i64,
) -> (Value, Value) {
    let now = now.timestamp();
    // The answer compares microseconds; whole seconds here, so a device right at a window's
    // edge would be ambiguous: none is (offline devices are hours away from every edge).
    let seen = |within: i64| {
        devices
            .iter()
            .filter(|d| d.4.is_some_and(|at| now - at <= within))
            .count()
    };
    let devices_json = json!({
        "total": devices.len(),
        "without_cohort": devices.iter().filter(|d| d.1.is_empty()).count(),
        "quarantined": devices.iter().filter(|d| d.2).count(),
        "needs_provisioning": devices.iter().filter(|d| d.3).count(),
    });
    let connection = json!({
        "online": seen(online_within_s),
        "seen_last_hour": seen(3600),
        "seen_last_24h": seen(24 * 3600),
        "seen_last_7d": seen(7 * 24 * 3600),
        "never_seen": devices.iter().filter(|d| d.4.is_none()).count(),
    });
    (devices_json, connection)
}

fn assert_counts(stats: &Value, devices: &[(String, String, bool, bool, Option<i64>)]) {
    let now: DateTime<Utc> = stats["generated_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("generated_at");
    let within = stats["connection"]["online_within_s"]
        .as_i64()
        .expect("online_within_s");
    let (expected_devices, expected_connection) = expected_counts(devices, now, within);
    for (field, value) in expected_devices.as_object().expect("object") {
        assert_eq!(
            &stats["devices"][field], value,
            "devices.{field}: {stats:#}"
        );
    }
    for (field, value) in expected_connection.as_object().expect("object") {
        assert_eq!(
            &stats["connection"][field], value,
            "connection.{field}: {stats:#}"
        );
    }
}

/// Versions per artifact among `sensor`'s devices (of `cohort`), from `device_running`.
fn versions(api: &Api, cohort: Option<&str>) -> BTreeMap<String, BTreeMap<String, u64>> {
    let filter = cohort.map_or(String::new(), |c| {
        format!(" AND d.cohort_id = (SELECT id FROM cohorts WHERE name = '{c}')")
    });
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in rows(
        api,
        &format!(
            "SELECT r.artifact, r.version, CAST(COUNT(*) AS TEXT) FROM device_running r \
             JOIN devices d ON d.id = r.device_id JOIN products p ON p.id = d.product_id \
             WHERE p.name = 'sensor'{filter} GROUP BY r.artifact, r.version"
        ),
    ) {
        out.entry(r[0].clone())
            .or_default()
            .insert(r[1].clone(), number(&r[2]));
    }
    out
}

fn assert_firmware(stats: &Value, expected: &BTreeMap<String, BTreeMap<String, u64>>) {
    let total = stats["devices"]["total"].as_u64().expect("total");
    let firmware = stats["firmware"].as_array().expect("firmware");
    assert_eq!(firmware.len(), expected.len(), "{stats:#}");
    for artifact in firmware {
        let name = artifact["artifact"].as_str().expect("artifact");
        let want = &expected[name];
        let got: BTreeMap<String, u64> = artifact["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| {
                let devices = v["devices"].as_u64().expect("devices");
                let share = v["share"].as_f64().expect("share");
                assert!(
                    (share - devices as f64 / total as f64).abs() < 1e-9,
                    "share of {v}"
                );
                (v["version"].as_str().expect("version").to_owned(), devices)
            })
            .collect();
        assert_eq!(&got, want, "{name}: {stats:#}");
        let reporting: u64 = want.values().sum();
        assert_eq!(artifact["unknown"], total - reporting, "{name}: {stats:#}");
        assert_eq!(artifact["other_versions"], 0, "{name}");
    }
}

/// Per device, the furthest state it reported for `release`, and its reason.
fn furthest_states(api: &Api, release: &str) -> BTreeMap<String, (String, String)> {
    let rank = |state: &str| match state {
        "downloading" => 1,
        "installing" => 2,
        "succeeded" => 4,
        _ => 3,
    };
    let mut out: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in rows(
        api,
        &format!(
            "SELECT device_id, state, COALESCE(reason, '') FROM update_reports \
             WHERE release_id = '{release}'"
        ),
    ) {
        let entry = out
            .entry(r[0].clone())
            .or_insert_with(|| (r[1].clone(), r[2].clone()));
        if rank(&r[1]) > rank(&entry.0) {
            *entry = (r[1].clone(), r[2].clone());
        }
    }
    out
}

/// The release's median milliseconds from offer to success over every device's own row (the
/// mean of the two middle values for an even count, rounded down), not through the buckets
/// the service reads.
fn median_of_rows(api: &Api, release: &str) -> Option<u64> {
    let mut times: Vec<u64> = rows(
        api,
        &format!(
            "SELECT CAST(offer_to_success_ms AS TEXT) FROM release_devices \
             WHERE release_id = '{release}' AND offer_to_success_ms IS NOT NULL"
        ),
    )
    .iter()
    .map(|r| number(&r[0]))
    .collect();
    times.sort_unstable();
    let n = times.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(times[n / 2]),
        _ => Some((times[n / 2 - 1] + times[n / 2]) / 2),
    }
}

fn assert_updates(
    update: &Value,
    states: &BTreeMap<String, (String, String)>,
    median: Option<u64>,
) {
    let count = |state: &str| states.values().filter(|(s, _)| s == state).count() as u64;
    for state in [
        "downloading",
        "installing",
        "succeeded",
        "failed",
        "rolled_back",
    ] {
        assert_eq!(update[state], count(state), "{state}: {update:#}");
    }
    // Every simulated device is offered the release (100%, known target) and settles.
    assert_eq!(update["offered"], states.len() as u64, "{update:#}");
    assert_eq!(update["pending"], 0, "{update:#}");
    let finished = count("succeeded") + count("failed") + count("rolled_back");
    let rate = update["success_rate"].as_f64().expect("success rate");
    assert!(
        (rate - count("succeeded") as f64 / finished as f64).abs() < 1e-9,
        "{update:#}"
    );
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (state, reason) in states.values() {
        if state == "failed" || state == "rolled_back" {
            *reasons.entry(reason.clone()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, u64> = update["failure_reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().expect("reason").to_owned(),
                r["devices"].as_u64().expect("devices"),
            )
        })
        .collect();
    assert_eq!(got, reasons, "{update:#}");
    assert_eq!(
        update["median_offer_to_success_ms"].is_u64(),
        count("succeeded") > 0,
        "a median exactly when devices succeeded: {update:#}"
    );
    assert_eq!(
        update["median_offer_to_success_ms"].as_u64(),
        median,
        "the median of the devices' own times: {update:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_equal_the_counts_of_the_raw_tables_for_a_simulated_fleet() {
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let api = Api::with_server(server);
    cli.run(&["cohort", "create", "field", "--product", "sensor"])
        .success();
    let files = tempfile::tempdir().expect("temp dir");
    release(&cli, files.path(), "1.1.0", b"new firmware");
    // Both outcomes in every run: half the devices fail their install, half succeed.
    simulate_both_outcomes(
        &api.server,
        ca.path(),
        SIMULATED / 2,
        SIMULATED - SIMULATED / 2,
    );

    // Devices that never checked in: one without a cohort, one in `field` awaiting
    // provisioning; one quarantined; three made offline for an hour, days, and weeks.
    api.device(json!({ "identifier": "spare", "product": "sensor" }))
        .await;
    api.device(json!({ "identifier": "moved", "product": "sensor", "cohort": "field" }))
        .await;
    backend::execute(
        &api.server.storage,
        "UPDATE devices SET needs_provisioning = TRUE \
         WHERE id = (SELECT device_id FROM device_details WHERE identifier = 'moved')",
    );
    backend::execute(
        &api.server.storage,
        "UPDATE devices SET quarantined = TRUE \
         WHERE id = (SELECT device_id FROM device_details WHERE identifier = 'sim-0003')",
    );
    let now = Utc::now();
    set_last_seen(&api, "sim-0000", now - Duration::minutes(90));
    set_last_seen(&api, "sim-0001", now - Duration::days(3));
    set_last_seen(&api, "sim-0002", now - Duration::days(20));
    // Another product's devices count nowhere here.
    api.product("other").await;
    api.device(json!({ "identifier": "elsewhere", "product": "other" }))
        .await;

    let product = api.get("/v1/products/sensor/stats").await;
    assert_eq!(product.status, 200, "{}", product.body);
    let stats = &product.body;
    assert_counts(stats, &devices(&api, None));
    let per_cohort: BTreeMap<String, u64> = stats["devices"]["per_cohort"]
        .as_array()
        .expect("per cohort")
        .iter()
        .map(|c| {
            (
                c["cohort"].as_str().expect("cohort").to_owned(),
                c["devices"].as_u64().expect("devices"),
            )
        })
        .collect();
    let all = devices(&api, None);
    for name in ["canary", "field"] {
        let want = all.iter().filter(|d| d.1 == name).count() as u64;
        assert_eq!(per_cohort[name], want, "{name}: {stats:#}");
    }
    assert_eq!(per_cohort.len(), 2, "{stats:#}");
    assert_eq!(stats["connection"]["online_within_s"], 600, "2 × 300 s");
    let check_ins: u64 = rows(
        &api,
        "SELECT CAST(SUM(s.check_ins) AS TEXT) FROM device_status s \
         JOIN devices d ON d.id = s.device_id JOIN products p ON p.id = d.product_id \
         WHERE p.name = 'sensor'",
    )
    .first()
    .map(|r| number(&r[0]))
    .expect("a sum");
    let per_hour = stats["connection"]["check_ins_per_hour"]
        .as_array()
        .expect("per hour");
    assert_eq!(per_hour.len(), 24);
    let counted: u64 = per_hour.iter().map(|n| n.as_u64().expect("count")).sum();
    assert!(check_ins > 0);
    assert_eq!(counted, check_ins, "{stats:#}");
    assert_firmware(stats, &versions(&api, None));
    let updates = stats["updates"].as_array().expect("updates");
    assert_eq!(
        updates.len(),
        1,
        "canary's release; field has none: {stats:#}"
    );
    let release_id = updates[0]["release_id"].as_str().expect("release id");
    let states = furthest_states(&api, release_id);
    assert_eq!(states.len(), SIMULATED);
    let median = median_of_rows(&api, release_id);
    assert_updates(&updates[0], &states, median);

    // The cohort's figures: its devices only.
    let cohort = api.get("/v1/products/sensor/cohorts/canary/stats").await;
    assert_eq!(cohort.status, 200, "{}", cohort.body);
    assert_counts(&cohort.body, &devices(&api, Some("canary")));
    assert_eq!(cohort.body["scope"]["cohort"], "canary");
    assert_firmware(&cohort.body, &versions(&api, Some("canary")));
    let field = api.get("/v1/products/sensor/cohorts/field/stats").await;
    assert_counts(&field.body, &devices(&api, Some("field")));
    assert_eq!(field.body["updates"], json!([]));

    // The release's: its own progress, the devices of its cohort.
    let path = format!("/v1/products/sensor/releases/{release_id}/stats");
    let release = api.get(&path).await;
    assert_eq!(release.status, 200, "{}", release.body);
    assert_eq!(release.body["scope"]["release_id"], release_id);
    assert_counts(&release.body, &devices(&api, Some("canary")));
    assert_updates(&release.body["updates"][0], &states, median);

    // A key scoped to `other` sees none of it; one scoped to `sensor` sees the same figures.
    let (outside, _) = key(&api, "outside", "read", Some(&["other"])).await;
    let (inside, _) = key(&api, "inside", "read", Some(&["sensor"])).await;
    for path in [
        "/v1/products/sensor/stats".to_owned(),
        "/v1/products/sensor/cohorts/canary/stats".to_owned(),
        path.clone(),
    ] {
        let refused = call(&api, &outside, Method::GET, &path, None).await;
        assert_eq!(refused.status, 404, "{path}: {}", refused.body);
        let seen = call(&api, &inside, Method::GET, &path, None).await;
        assert_eq!(seen.status, 200, "{path}: {}", seen.body);
        assert_counts(
            &seen.body,
            &devices(&api, seen.body["scope"]["cohort"].as_str()),
        );
    }
    let other = call(
        &api,
        &outside,
        Method::GET,
        "/v1/products/other/stats",
        None,
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(other.body["devices"]["total"], 1, "{}", other.body);
    assert_eq!(other.body["devices"]["without_cohort"], 1);
    assert_eq!(other.body["connection"]["never_seen"], 1);
}

#[tokio::test]
async fn an_unknown_cohort_or_release_is_404_naming_it() {
    let api = Api::start();
    api.product("sensor").await;
    let cohort = api.get("/v1/products/sensor/cohorts/nope/stats").await;
    cohort.assert_error(404, "not_found");
    assert!(cohort.message().contains("nope"), "{}", cohort.body);
    let release = api
        .get("/v1/products/sensor/releases/rel_0190a1b2c3d4e5f60718293a4b5c6d7e/stats")
        .await;
    release.assert_error(404, "not_found");
    let empty = api.get("/v1/products/sensor/stats").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["devices"]["total"], 0);
    assert_eq!(empty.body["firmware"], json!([]));
    assert_eq!(empty.body["updates"], json!([]));
}
