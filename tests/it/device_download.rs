//! Downloads on the device API: only binaries of the update offered to this device, whole or
//! resumed with `Range` (206), 416 past the end, with the SHA-256 header and ETag.

use fleet::api::device_api::SHA256_HEADER;

use crate::device_updates_support::{PART, check_in, content, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offered_binary_downloads_whole_and_resumes_with_range() {
    let fleet = setup();
    let mut device = fleet.device("sn-1").await;
    // Three parts and a bit: ranges cross part boundaries.
    let bytes = content(3 * PART as usize + 100, 5);
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &bytes, 100);
    let answer = check_in(&mut device, Some("0.9")).await.json();
    let url = answer["update"]["binaries"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let sha256 = pushed["binary"]["sha256"].as_str().expect("sha256");
    let text = String::from_utf8(bytes.clone()).expect("ascii content");

    let whole = device.get(&url).await.expect("download");
    assert_eq!(whole.status, 200, "{:?}", whole.headers);
    assert_eq!(whole.body, text);
    assert_eq!(whole.header(SHA256_HEADER), Some(sha256));
    assert_eq!(whole.header("etag"), Some(format!("\"{sha256}\"").as_str()));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));

    // Resumed after 1000 bytes: the rest, across parts.
    let rest = device
        .request("GET", &url, &[("range", "bytes=1000-")], "")
        .await
        .expect("resume");
    assert_eq!(rest.status, 206, "{:?}", rest.headers);
    assert_eq!(rest.body, text[1000..]);
    let total = bytes.len();
    assert_eq!(
        rest.header("content-range"),
        Some(format!("bytes 1000-{}/{total}", total - 1).as_str())
    );
    assert_eq!(
        rest.header(SHA256_HEADER),
        Some(sha256),
        "the whole file's digest"
    );

    let middle = device
        .request("GET", &url, &[("range", "bytes=1020-2050")], "")
        .await
        .expect("range");
    assert_eq!(middle.status, 206);
    assert_eq!(middle.body, text[1020..=2050]);

    let past = device
        .request("GET", &url, &[("range", &format!("bytes={total}-"))], "")
        .await
        .expect("past the end");
    assert_eq!(past.status, 416, "{past:?}");
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{total}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binaries_not_offered_to_this_device_are_404() {
    let fleet = setup();
    fleet.cli.run(&["product", "create", "other"]).success();
    fleet
        .cli
        .run(&["cohort", "create", "field", "--product", "other"])
        .success();
    let foreign = fleet.release("other", "field", "1.0", "armv7", &content(50, 6), 100);
    let pushed = fleet.release("sensor", "canary", "1.0", "armv7", &content(50, 7), 100);
    let mut device = fleet.device("sn-1").await;
    check_in(&mut device, Some("0.9")).await;

    let path = |pushed: &serde_json::Value| {
        format!(
            "/v1/device/binaries/{}",
            pushed["binary"]["id"].as_str().expect("binary id")
        )
    };
    let other = device.get(&path(&foreign)).await.expect("get");
    assert_eq!(other.status, 404, "another product's binary: {other:?}");
    let own = device.get(&path(&pushed)).await.expect("get");
    assert_eq!(own.status, 200, "{own:?}");

    // Once the device runs it, the binary is no longer offered to it.
    check_in(&mut device, Some("1.0")).await;
    let done = device.get(&path(&pushed)).await.expect("get");
    assert_eq!(done.status, 404, "{done:?}");
    let malformed = device
        .get("/v1/device/binaries/nonsense")
        .await
        .expect("get");
    assert_eq!(malformed.status, 404);
}
