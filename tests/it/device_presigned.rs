//! `fleet server --device-downloads presigned`: with an S3 blob store an offer sends a device
//! to a short-lived presigned URL of the bucket for a binary stored as one object, the device
//! (and `fleet simulate`) downloads it from there and the update completes; the device-API
//! download keeps working; a binary stored as part objects, and the default `proxy` setting,
//! keep the device-API path; with a local blob store the setting is refused at start-up.
//! The tests that need the S3 test server say `skipped:` without it.

use std::io::Write as _;
use std::time::Duration;

use fleet::server::{DeviceDownloads, Server, ServerConfig};
use serde_json::Value;

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa};
use crate::device_check_in_interval::start;
use crate::device_updates_support::{PART, check_in, content, release_id, report, setup_with};
use crate::scale_support::Deployment;

const PRESIGNED_10M: DeviceDownloads = DeviceDownloads::Presigned {
    ttl: Duration::from_secs(600),
};

/// The S3 test server's endpoint; `None` (saying so past libtest's capture) on a run without.
fn s3_endpoint(test: &str) -> Option<String> {
    let endpoint = std::env::var(backend::S3_ENDPOINT_VAR)
        .ok()
        .filter(|e| !e.is_empty());
    if endpoint.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} needs the S3 test server ({} is not set; start moto with \
             `bash .ci/s3 start`)",
            backend::S3_ENDPOINT_VAR
        );
    }
    endpoint.map(|e| e.trim_end_matches('/').to_owned())
}

/// The URLs of the binaries offered in a check-in answer.
fn offered_urls(answer: &Value) -> Vec<String> {
    answer["update"]["binaries"]
        .as_array()
        .unwrap_or_else(|| panic!("no update offered: {answer}"))
        .iter()
        .map(|b| b["url"].as_str().expect("url").to_owned())
        .collect()
}

fn binary_id(pushed: &Value) -> &str {
    pushed["binary"]["id"].as_str().expect("binary id")
}

/// Asserts `url` is a presigned GET of the test bucket on `endpoint`, valid for `expires_s`.
fn assert_presigned(url: &str, endpoint: &str, expires_s: u64) {
    assert!(
        url.starts_with(&format!("{endpoint}/fleet-test/")),
        "an absolute URL of the bucket on {endpoint}: {url}"
    );
    for part in [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Signature=",
        &format!("X-Amz-Expires={expires_s}"),
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_offer_sends_the_device_to_the_bucket_and_the_update_completes() {
    let test = "a_presigned_offer_sends_the_device_to_the_bucket_and_the_update_completes";
    let Some(endpoint) = s3_endpoint(test) else {
        return;
    };
    // The default part size (8 MiB) is above S3's minimum part: binaries become one object.
    let fleet = setup_with(|config| config.device_downloads = PRESIGNED_10M);
    fleet.cli.run(&["product", "create", "other"]).success();
    fleet
        .cli
        .run(&["cohort", "create", "field", "--product", "other"])
        .success();
    let foreign = fleet.release("other", "field", "1.0", "armv7", &content(4000, 6), 100);
    let bytes = content(6000, 3);
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &bytes, 100);
    let sha256 = pushed["binary"]["sha256"].as_str().expect("sha256");

    let mut device = fleet.device("sn-1").await;
    let answer = check_in(&mut device, Some("0.9")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let urls = offered_urls(&answer.json());
    assert_eq!(urls.len(), 1, "{urls:?}");
    let url = &urls[0];
    assert_presigned(url, &endpoint, 600);
    assert!(url.contains(binary_id(&pushed)), "its own binary: {url}");
    assert!(
        !url.contains(binary_id(&foreign)),
        "never another product's binary: {url}"
    );

    // The device client fetches it from the bucket, hashing as it reads.
    let client = reqwest::Client::new();
    let download = fleet::client::device::download_url(&client, url)
        .await
        .expect("download from the bucket");
    assert_eq!(download.size, bytes.len() as u64);
    assert_eq!(download.sha256, sha256, "the digest verifies");
    // A resumed download works against the bucket too.
    let rest = client
        .get(url)
        .header("range", "bytes=5000-")
        .send()
        .await
        .expect("ranged GET");
    assert_eq!(rest.status(), 206);
    assert_eq!(rest.bytes().await.expect("body")[..], bytes[5000..]);

    // The device-API download still serves a device that asks it.
    let path = format!("/v1/device/binaries/{}", binary_id(&pushed));
    let proxied = device.get(&path).await.expect("device-API download");
    assert_eq!(proxied.status, 200, "{proxied:?}");
    assert_eq!(proxied.body.as_bytes(), &bytes[..]);
    let foreign_path = format!("/v1/device/binaries/{}", binary_id(&foreign));
    assert_eq!(device.get(&foreign_path).await.expect("get").status, 404);

    let release = release_id(&pushed);
    for state in ["downloading", "installing", "succeeded"] {
        let answer = report(&mut device, &release, state).await;
        assert_eq!(answer.status, 200, "{state}: {answer:?}");
    }
    let shown = fleet.show("sn-1");
    assert_eq!(shown["status"]["update"]["state"], "succeeded", "{shown}");
    assert_eq!(shown["status"]["running"][0]["version"], "1.0", "{shown}");
    let after = check_in(&mut device, Some("1.0")).await.json();
    assert!(after["update"].is_null(), "nothing more to take: {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_stored_as_part_objects_keeps_the_device_api_path() {
    let test = "a_binary_stored_as_part_objects_keeps_the_device_api_path";
    if s3_endpoint(test).is_none() {
        return;
    }
    // 1 KiB parts are below S3's 5 MiB minimum: each part is an object of its own.
    let fleet = setup_with(|config| {
        config.part_size_bytes = PART;
        config.device_downloads = PRESIGNED_10M;
    });
    let bytes = content(3 * PART as usize + 10, 4);
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &bytes, 100);
    let mut device = fleet.device("sn-1").await;
    let urls = offered_urls(&check_in(&mut device, Some("0.9")).await.json());
    let path = format!("/v1/device/binaries/{}", binary_id(&pushed));
    assert_eq!(urls, std::slice::from_ref(&path));
    let downloaded = device.get(&path).await.expect("download");
    assert_eq!(downloaded.status, 200, "{downloaded:?}");
    assert_eq!(downloaded.body.as_bytes(), &bytes[..]);
}

/// On the S3 run this is a binary stored as one object, which `proxy` still sends through the
/// device API; on the local run every binary is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_offers_name_the_device_api_path() {
    let fleet = setup_with(|_| {});
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(2000, 8), 100);
    let mut device = fleet.device("sn-1").await;
    let urls = offered_urls(&check_in(&mut device, Some("0.9")).await.json());
    assert_eq!(
        urls,
        [format!("/v1/device/binaries/{}", binary_id(&pushed))]
    );
}

#[test]
fn the_server_flags_send_simulated_devices_to_presigned_urls_and_their_updates_succeed() {
    let test =
        "the_server_flags_send_simulated_devices_to_presigned_urls_and_their_updates_succeed";
    let Some(endpoint) = s3_endpoint(test) else {
        return;
    };
    let deployment = Deployment::new();
    let data_dir = deployment.data_dir.path();
    let (_server, started) = start(
        &Cli::new(),
        data_dir,
        &[
            "--device-downloads",
            "presigned",
            "--presigned-url-ttl",
            "7m",
        ],
    );
    let cli = Cli::with_profile(&started.url, &deployment.key);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let sim_ca = crate::simulate::ca_dir("sim factory");
    let pem = sim_ca.path().join(fleet::pki::CA_CERT_FILE);
    cli.run(&[
        "ca",
        "add",
        "sim",
        "-P",
        "sensor",
        "--cert",
        pem.to_str().expect("utf-8 path"),
        "--jitp",
        "--jitp-cohort",
        "canary",
        "--jitp-target",
        "armv7",
    ])
    .success();
    let files = tempfile::tempdir().expect("temp dir");
    let file = files.path().join("app-1.1.0.bin");
    std::fs::write(&file, content(7000, 9)).expect("firmware file");
    cli.run(&[
        "firmware",
        "push",
        file.to_str().expect("utf-8 path"),
        "-P",
        "sensor",
        "-a",
        "app",
        "--version",
        "1.1.0",
        "-t",
        "armv7",
        "--release-to",
        "canary",
        "--rollout",
        "100",
    ])
    .success();

    // What a device of this deployment is offered: a URL of the bucket, valid for 7 minutes.
    let ca = TestCa::new("probe factory");
    device::insert_ca_fixture(
        &backend::storage(data_dir),
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            cohort: Some("canary".to_owned()),
            target: Some("armv7".to_owned()),
            ..Jitp::default()
        },
    );
    let identity = ca.issue("probe-1");
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let mut conn =
                device::connect(started.device_addr, &started.fingerprint, Some(&identity))
                    .await
                    .expect("connect");
            check_in(&mut conn, Some("1.0.0")).await
        });
    let urls = offered_urls(&answer.json());
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert_presigned(&urls[0], &endpoint, 420);

    let device_url = format!("https://{}", started.device_addr);
    let summary = Cli::new()
        .run(&[
            "simulate",
            "--device-url",
            &device_url,
            "--server-fingerprint",
            &started.fingerprint,
            "-q",
            "--ca",
            sim_ca.path().to_str().expect("utf-8 path"),
            "--count",
            "2",
            "--running",
            "app@1.0.0",
            "--target",
            "armv7",
            "--interval",
            "100ms",
            "--until-settled",
            "--duration",
            "60s",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(summary["stopped_by"], "settled", "{summary}");
    assert_eq!(summary["states"]["succeeded"], 2, "{summary}");
    assert_eq!(summary["states"]["failed"], 0, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    for sim in ["sim-0000", "sim-0001"] {
        let shown = cli
            .run(&["device", "show", sim, "-o", "json"])
            .success()
            .json();
        assert_eq!(shown["status"]["update"]["state"], "succeeded", "{shown}");
    }
}

#[test]
fn presigned_downloads_with_a_local_blob_store_are_refused_before_anything_starts() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().join("fleet");
    let dir = dir.to_str().expect("utf-8 path");
    let flag = [
        "server",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--no-profile",
        "--device-downloads",
        "presigned",
    ];
    let by_env = ["server", "--listen", "127.0.0.1:0", "--data-dir", dir];
    for run in [
        cli.run(&flag),
        cli.run_with_env(&by_env, &[("FLEET_DEVICE_DOWNLOADS", "presigned")]),
    ] {
        let run = run.failure(2);
        assert!(
            run.stderr
                .contains("--device-downloads presigned needs an S3 blob store"),
            "{run:#?}"
        );
        assert!(
            run.stderr
                .contains("hint: keep firmware in a bucket with --blob-store s3://BUCKET"),
            "{run:#?}"
        );
    }
    assert!(
        !data.path().join("fleet").exists(),
        "the data dir was not created"
    );
}

#[tokio::test]
async fn a_server_opened_with_presigned_downloads_and_local_blobs_is_refused_untouched() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().join("fleet");
    let mut config = ServerConfig::new(&dir);
    config.device_downloads = PRESIGNED_10M;
    let Err(err) = Server::open(config).await else {
        panic!("presigned downloads from a local blob store were accepted");
    };
    let message = format!("{err:#}");
    assert!(message.contains("needs an S3 blob store"), "{message}");
    assert!(message.contains("hint:"), "{message}");
    assert!(!dir.exists(), "nothing was created");
}

#[test]
fn a_presigned_url_life_out_of_bounds_is_a_usage_error() {
    let cli = Cli::new();
    for bad in ["30s", "25h", "0s", "soon"] {
        let run = cli.run(&["server", "--presigned-url-ttl", bad]).failure(2);
        assert!(run.stderr.contains("--presigned-url-ttl"), "{run:#?}");
    }
    let run = cli
        .run(&["server", "--presigned-url-ttl", "59s"])
        .failure(2);
    assert!(run.stderr.contains("must be from 1m to 1day"), "{run:#?}");
    let run = cli
        .run(&["server", "--device-downloads", "redirect"])
        .failure(2);
    assert!(run.stderr.contains("proxy, presigned"), "{run:#?}");
}
