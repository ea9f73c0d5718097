//! The statistics' summaries (migration 0013: device counts, devices by hour last seen,
//! versions, release states) stay equal to a recount of the raw tables after every write path
//! that changes what they count: JITP, check-ins (first, repeated, with other versions), offers
//! and update reports, device create, import (new and updating), update (cohort, quarantine),
//! cohort assign and unassign, move to another product, delete, plain SQL on a check-in time,
//! cohort delete and product delete.

use std::collections::BTreeMap;

use serde_json::json;

use crate::api_support::Api;
use crate::common::backend;
use crate::common::cli::Cli;
use crate::simulate::{ca_dir, release, rollout_service, simulate, simulate_both_outcomes};

/// Rows of `sql` (every column TEXT; NULL as '') against the test server's database.
fn rows(api: &Api, sql: &str) -> Vec<Vec<String>> {
    backend::rows(&api.server.storage, sql)
        .into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

fn number(text: &str) -> i64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a count: {text:?}"))
}

type Counts = BTreeMap<Vec<String>, Vec<i64>>;

/// `sql`'s rows as key columns (the first `keys`) → counts, rows of only zeros left out (the
/// summaries keep a counter at 0 until it is pruned).
fn counts(api: &Api, keys: usize, sql: &str) -> Counts {
    rows(api, sql)
        .into_iter()
        .map(|r| {
            let (key, values) = r.split_at(keys);
            (key.to_vec(), values.iter().map(|v| number(v)).collect())
        })
        .filter(|(_, values): &(Vec<String>, Vec<i64>)| values.iter().any(|v| *v != 0))
        .collect()
}

/// Adds 1 to `key`'s single count.
fn tally(into: &mut Counts, key: Vec<String>) {
    into.entry(key).or_insert_with(|| vec![0])[0] += 1;
}

/// Each device's last check-in as whole seconds since the Unix epoch, with its product and
/// cohort read from `devices` (not from the copies the summaries keep).
fn seen_hours_recounted(api: &Api) -> Counts {
    let epoch = if backend::is_postgres() {
        "CAST(FLOOR(EXTRACT(EPOCH FROM s.last_seen_at)) AS BIGINT)"
    } else {
        "CAST(strftime('%s', substr(s.last_seen_at, 1, 19)) AS INTEGER)"
    };
    let mut out = Counts::new();
    for r in rows(
        api,
        &format!(
            "SELECT d.product_id, COALESCE(d.cohort_id, ''), CAST({epoch} AS TEXT) \
             FROM device_status s JOIN devices d ON d.id = s.device_id"
        ),
    ) {
        let hour = number(&r[2]).div_euclid(3600);
        tally(&mut out, vec![r[0].clone(), r[1].clone(), hour.to_string()]);
    }
    out
}

/// Devices per release, state and reason (for failures) from `release_devices`.
fn release_states_recounted(api: &Api) -> Counts {
    let mut out = Counts::new();
    for r in rows(
        api,
        "SELECT release_id, COALESCE(state, ''), CASE WHEN reason IS NULL THEN 'n' ELSE 'y' END, \
         COALESCE(reason, '') FROM release_devices",
    ) {
        let failure = r[1] == "failed" || r[1] == "rolled_back";
        let given = failure && r[2] == "y";
        let key = vec![
            r[0].clone(),
            r[1].clone(),
            if given { "y" } else { "n" }.to_owned(),
            if given { r[3].clone() } else { String::new() },
        ];
        tally(&mut out, key);
    }
    out
}

/// `ms` rounded down to two significant digits, as migration 0017 buckets success times.
fn success_bucket(ms: i64) -> i64 {
    if ms < 100 {
        return ms;
    }
    let digits = u32::try_from(ms.to_string().len()).expect("digits");
    let unit = 10_i64.pow(digits - 2);
    ms / unit * unit
}

/// Devices per release and bucket of offer-to-success time, from `release_devices`.
fn success_times_recounted(api: &Api) -> Counts {
    let mut out = Counts::new();
    for r in rows(
        api,
        "SELECT release_id, CAST(offer_to_success_ms AS TEXT) FROM release_devices \
         WHERE offer_to_success_ms IS NOT NULL",
    ) {
        let bucket = success_bucket(number(&r[1]));
        tally(&mut out, vec![r[0].clone(), bucket.to_string()]);
    }
    out
}

/// The success-time buckets: equal to their recount, and not trivially empty where devices
/// succeeded after an offer.
fn assert_success_times(api: &Api, after: &str) -> Counts {
    let times = counts(
        api,
        2,
        "SELECT release_id, CAST(bucket_ms AS TEXT), CAST(devices AS TEXT) \
         FROM release_success_times",
    );
    assert_eq!(
        times,
        success_times_recounted(api),
        "release_success_times after {after}"
    );
    times
}

/// Every summary equals its recount from the raw tables.
fn assert_exact(api: &Api, after: &str) {
    let as_text = |column: &str| format!("CAST({column} AS TEXT)");
    let device_counts = counts(
        api,
        2,
        &format!(
            "SELECT product_id, cohort_id, {}, {}, {} FROM device_counts",
            as_text("devices"),
            as_text("quarantined"),
            as_text("needs_provisioning")
        ),
    );
    let devices_recounted = counts(
        api,
        2,
        "SELECT product_id, COALESCE(cohort_id, ''), CAST(COUNT(*) AS TEXT), \
         CAST(SUM(CASE WHEN quarantined THEN 1 ELSE 0 END) AS TEXT), \
         CAST(SUM(CASE WHEN needs_provisioning THEN 1 ELSE 0 END) AS TEXT) \
         FROM devices GROUP BY product_id, COALESCE(cohort_id, '')",
    );
    assert_eq!(
        device_counts, devices_recounted,
        "device_counts after {after}"
    );

    let seen_hours = counts(
        api,
        3,
        "SELECT product_id, cohort_id, CAST(hour AS TEXT), CAST(devices AS TEXT) FROM seen_hours",
    );
    assert_eq!(
        seen_hours,
        seen_hours_recounted(api),
        "seen_hours after {after}"
    );

    let versions = counts(
        api,
        4,
        "SELECT product_id, cohort_id, artifact, version, CAST(devices AS TEXT) \
         FROM version_counts",
    );
    let versions_recounted = counts(
        api,
        4,
        "SELECT d.product_id, COALESCE(d.cohort_id, ''), r.artifact, r.version, \
         CAST(COUNT(*) AS TEXT) FROM device_running r JOIN devices d ON d.id = r.device_id \
         GROUP BY d.product_id, COALESCE(d.cohort_id, ''), r.artifact, r.version",
    );
    assert_eq!(versions, versions_recounted, "version_counts after {after}");

    let states = counts(
        api,
        4,
        "SELECT release_id, state, CASE WHEN reason_given THEN 'y' ELSE 'n' END, reason, \
         CAST(devices AS TEXT) FROM release_states",
    );
    assert_eq!(
        states,
        release_states_recounted(api),
        "release_states after {after}"
    );

    assert_success_times(api, after);

    // The copies of each device's product and cohort the range counts read.
    for table in ["device_status", "device_running"] {
        let stray = rows(
            api,
            &format!(
                "SELECT t.device_id FROM {table} t JOIN devices d ON d.id = t.device_id \
                 WHERE t.product_id <> d.product_id OR t.cohort_id <> COALESCE(d.cohort_id, '')"
            ),
        );
        assert!(stray.is_empty(), "{table} after {after}: {stray:?}");
    }
    // The summaries are not trivially empty.
    assert!(!device_counts.is_empty(), "device_counts after {after}");
}

fn import(cli: &Cli, dir: &std::path::Path, csv: &str) {
    import_with(cli, dir, csv, &[]);
}

fn import_with(cli: &Cli, dir: &std::path::Path, csv: &str, flags: &[&str]) {
    let file = dir.join("devices.csv");
    std::fs::write(&file, csv).expect("csv");
    let mut args = vec![
        "device",
        "import",
        file.to_str().expect("utf-8 path"),
        "-P",
        "sensor",
        "--yes",
    ];
    args.extend_from_slice(flags);
    cli.run(&args).success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summaries_equal_a_recount_of_the_raw_tables_after_every_write_path() {
    let ca = ca_dir("factory");
    let (server, cli) = rollout_service(ca.path());
    let api = Api::with_server(server);
    cli.run(&["cohort", "create", "field", "--product", "sensor"])
        .success();
    let files = tempfile::tempdir().expect("temp dir");

    // JITP, first and later check-ins, offers, update reports (some failed), and the
    // versions of the successful devices changed by their reports.
    release(&cli, files.path(), "1.1.0", b"new firmware");
    simulate_both_outcomes(&api.server, ca.path(), 3, 3);
    assert_exact(&api, "a simulated rollout");
    let states: Vec<String> = release_states_recounted(&api)
        .into_iter()
        .map(|(key, devices)| format!("{} {}", key[1], devices[0]))
        .collect();
    assert_eq!(states, ["failed 3", "succeeded 3"], "{states:?}");
    assert!(
        !assert_success_times(&api, "a simulated rollout").is_empty(),
        "the rollout's successes were timed"
    );

    // Check-ins reporting other versions (and another artifact) change the running rows.
    simulate(
        &api.server,
        &[
            "-q",
            "--ca",
            ca.path().to_str().expect("utf-8 path"),
            "--count",
            "3",
            "--running",
            "app@0.9.0",
            "--running",
            "boot@2.0.0",
            "--target",
            "armv7",
            "--check-ins-only",
            "--duration",
            "1s",
            "--interval",
            "100ms",
        ],
    )
    .success();
    assert_exact(&api, "check-ins with other versions");

    // Devices created one by one and imported, with and without a cohort.
    api.device(json!({ "identifier": "spare", "product": "sensor" }))
        .await;
    api.device(json!({ "identifier": "loose", "product": "sensor", "cohort": "field" }))
        .await;
    import(
        &cli,
        files.path(),
        "identifier,cohort\nimp-1,field\nimp-2,\nimp-3,canary\n",
    );
    assert_exact(&api, "create and import");

    // Cohort changes, one by one and in bulk, of devices with status and running rows.
    cli.run(&["device", "update", "sim-0000", "--cohort", "field"])
        .success();
    cli.run(&["device", "update", "sim-0001", "--quarantine"])
        .success();
    cli.run(&[
        "cohort", "assign", "field", "-P", "sensor", "sim-0002", "imp-2", "--yes",
    ])
    .success();
    cli.run(&["cohort", "unassign", "sim-0003", "imp-1", "--yes"])
        .success();
    assert_exact(&api, "cohort changes and quarantine");

    // An import that updates: existing devices (one with status and running rows) change
    // cohort, beside a new device and an unchanged one.
    import_with(
        &cli,
        files.path(),
        "identifier,cohort\nsim-0004,field\nimp-3,field\nimp-4,canary\nimp-2,field\n",
        &["--update"],
    );
    assert_exact(&api, "an import that updates");

    // A check-in moved back by days and another product's devices.
    backend::execute(
        &api.server.storage,
        "UPDATE device_status SET last_seen_at = '2020-01-01T10:30:00+00:00' \
         WHERE device_id = (SELECT device_id FROM device_details WHERE identifier = 'sim-0004')",
    );
    api.product("other").await;
    api.cohort("other", "o1").await;
    cli.run(&[
        "device",
        "move",
        "sim-0005",
        "sim-0000",
        "--to-product",
        "other",
        "--to-cohort",
        "o1",
        "--yes",
    ])
    .success();
    assert_exact(&api, "a check-in moved back and a move to another product");

    // Deletes: a device with status, running and release rows; a cohort with devices; the
    // other product once empty.
    cli.run(&["device", "delete", "sim-0001", "--yes"])
        .success();
    cli.run(&["cohort", "delete", "field", "-P", "sensor", "--yes"])
        .success();
    assert_exact(&api, "device and cohort delete");
    for device in ["sim-0005", "sim-0000"] {
        cli.run(&["device", "delete", device, "--yes"]).success();
    }
    cli.run(&["product", "delete", "other", "--yes"]).success();
    let left = rows(
        &api,
        "SELECT CAST(COUNT(*) AS TEXT) FROM device_counts c \
         WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = c.product_id)",
    );
    assert_eq!(left, [["0"]], "a deleted product's counts go with it");
    assert_exact(&api, "product delete");
}
