//! The end of firmware blobs: abandoning an unfinished upload (API and `fleet firmware
//! abandon`), a ready binary staying, idle uploads expiring in the sweep (run at a chosen
//! time), orphaned part files collected, `complete` and product deletion freeing their files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::firmware_support::{Fw, PART, content, setup};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn id(binary: &Value) -> String {
    binary["id"].as_str().expect("id").to_owned()
}

/// A push of `parts` parts to `p1`'s app `version` that stops after `sent` of them: an
/// unfinished upload with `sent` parts on disk. Returns the binary.
fn unfinished(fw: &Fw, version: &str, parts: usize, sent: usize) -> Value {
    let file = fw.file(&format!("{version}.img"), &content(parts * PART, 1));
    let stop = sent.to_string();
    let env = [("FLEET_TEST_STOP_AFTER_PARTS", stop.as_str())];
    fw.push_env(&file, "p1", version, &[], &env).failure(1);
    let binary = fw.binary("p1", version).expect("declared");
    assert_eq!(binary["state"], "uploading");
    binary
}

/// The directory holding every upload prefix of `binary`.
fn binary_dir(fw: &Fw, binary: &str) -> PathBuf {
    fw.server
        .data_dir
        .path()
        .join("blobs")
        .join("binaries")
        .join(binary)
}

/// Every file under `dir` (relative paths), sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root");
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The one upload prefix directory of `binary`.
fn prefix_dir(fw: &Fw, binary: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(binary_dir(fw, binary))
        .expect("binary dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().expect("prefix dir")
}

/// `method path` with the admin key, on a runtime of its own: (status, JSON body or null).
fn api(fw: &Fw, method: reqwest::Method, path: &str) -> (u16, Value) {
    let url = format!("{}{path}", fw.server.url);
    let key = fw.server.api_key.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let response = reqwest::Client::new()
            .request(method, url)
            .bearer_auth(key)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    })
}

/// The service's sweep at time `now` with upload expiry `expiry`, on the test server's data.
fn sweep(fw: &Fw, now: DateTime<Utc>, expiry: Duration) -> fleet::server::SweepReport {
    let storage = fw.server.storage.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fleet::server::sweep_firmware(storage, now, expiry))
    })
    .join()
    .expect("sweep thread")
    .expect("sweep")
}

fn events(fw: &Fw, action: &str, resource: &str) -> Vec<Value> {
    let run = fw.cli.run(&[
        "event",
        "list",
        "--action",
        action,
        "--resource",
        resource,
        "-o",
        "json",
    ]);
    run.success().json().as_array().expect("array").clone()
}

#[test]
fn delete_abandons_an_unfinished_upload_with_its_part_files() {
    if !crate::common::backend::local_blobs(
        "delete_abandons_an_unfinished_upload_with_its_part_files",
    ) {
        return;
    }
    let fw = setup();
    let binary = unfinished(&fw, "1.0", 4, 2);
    let bin = id(&binary);
    assert_eq!(files(&binary_dir(&fw, &bin)).len(), 2, "two parts on disk");

    let (status, body) = api(&fw, reqwest::Method::DELETE, &format!("/v1/binaries/{bin}"));
    assert_eq!(status, 204, "{body}");
    assert!(
        !binary_dir(&fw, &bin).exists(),
        "{:?}",
        files(&binary_dir(&fw, &bin))
    );
    assert_eq!(fw.binary("p1", "1.0"), None, "the row is gone");
    let (status, body) = api(&fw, reqwest::Method::GET, &format!("/v1/binaries/{bin}"));
    assert_eq!(status, 404, "{body}");
    // Again: like any other DELETE of something that is not there.
    let (status, body) = api(&fw, reqwest::Method::DELETE, &format!("/v1/binaries/{bin}"));
    assert_eq!(status, 404, "{body}");

    let audit = events(&fw, "binary.abandoned", &bin);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["details"]["reason"], "abandoned");
    assert_eq!(audit[0]["details"]["parts_received"], 2);
    assert!(audit[0]["key_id"].is_string(), "the caller is recorded");

    // The version takes a new upload afterwards.
    let file = fw.file("again.img", &content(2 * PART, 9));
    let again = fw.push(&file, "p1", "1.0", &["-o", "json"]).success();
    assert_eq!(again.json()["state"], "ready");
}

#[test]
fn fleet_firmware_abandon_confirms_then_deletes_and_prints_the_binary() {
    if !crate::common::backend::local_blobs(
        "fleet_firmware_abandon_confirms_then_deletes_and_prints_the_binary",
    ) {
        return;
    }
    let fw = setup();
    let binary = unfinished(&fw, "1.0", 3, 1);
    let bin = id(&binary);

    let refused = fw.cli.run(&["firmware", "abandon", &bin]).failure(3);
    assert!(refused.stderr.contains("--yes"), "{refused:#?}");
    assert_eq!(files(&binary_dir(&fw, &bin)).len(), 1, "nothing deleted");

    let run = fw
        .cli
        .run(&["firmware", "abandon", &bin, "--yes", "-o", "json"])
        .success();
    assert_eq!(run.json()["id"], bin.as_str());
    assert_eq!(run.json()["state"], "uploading", "the binary as it was");
    assert!(run.stderr.contains("abandoned the upload"), "{run:#?}");
    assert!(!binary_dir(&fw, &bin).exists());
    assert_eq!(fw.binary("p1", "1.0"), None);

    // By what it is rather than its ID.
    let second = id(&unfinished(&fw, "2.0", 3, 2));
    let named = [
        "firmware",
        "abandon",
        "-P",
        "p1",
        "-a",
        "app",
        "--version",
        "2.0",
        "-t",
        "armv7",
        "--yes",
        "-o",
        "id",
    ];
    let run = fw.cli.run(&named).success();
    assert_eq!(run.stdout.trim(), second);
    assert!(!binary_dir(&fw, &second).exists());

    let missing = fw.cli.run(&["firmware", "abandon", &bin, "--yes"]);
    missing.failure(6);
}

#[test]
fn a_ready_binary_cannot_be_abandoned() {
    if !crate::common::backend::local_blobs("a_ready_binary_cannot_be_abandoned") {
        return;
    }
    let fw = setup();
    let bytes = content(2 * PART, 3);
    let file = fw.file("a.img", &bytes);
    let ready = fw
        .push(&file, "p1", "1.0", &["-o", "json"])
        .success()
        .json();
    let bin = id(&ready);
    let before = files(&binary_dir(&fw, &bin));
    assert_eq!(before.len(), 2);

    let (status, body) = api(&fw, reqwest::Method::DELETE, &format!("/v1/binaries/{bin}"));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("immutable"),
        "{body}"
    );
    assert!(
        body["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("new version"),
        "{body}"
    );

    let run = fw
        .cli
        .run(&["firmware", "abandon", &bin, "--yes"])
        .failure(7);
    assert!(run.stderr.contains("immutable"), "{run:#?}");
    assert_eq!(files(&binary_dir(&fw, &bin)), before, "nothing deleted");
    assert_eq!(
        fw.binary("p1", "1.0").expect("still there")["state"],
        "ready"
    );
}

#[test]
fn the_sweep_expires_an_idle_upload_and_keeps_a_fresh_one() {
    let fw = setup();
    let stale = unfinished(&fw, "1.0", 3, 0);
    let fresh = unfinished(&fw, "2.0", 3, 0);
    let created = |b: &Value| -> DateTime<Utc> {
        b["created_at"]
            .as_str()
            .expect("created_at")
            .parse()
            .expect("time")
    };
    let (stale_at, fresh_at) = (created(&stale), created(&fresh));
    assert!(stale_at < fresh_at);
    // Both are declared only (no parts), so their last activity is their creation: at
    // `fresh_at + 1 day`, the first is idle for longer than a day and the second is not.
    let report = sweep(&fw, fresh_at + DAY, DAY);
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(fw.binary("p1", "1.0"), None, "the idle upload expired");
    assert_eq!(
        fw.binary("p1", "2.0").expect("kept")["state"],
        "uploading",
        "the fresh one stays"
    );
    let audit = events(&fw, "binary.abandoned", &id(&stale));
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["details"]["reason"], "expired");
    assert!(audit[0]["key_id"].is_null(), "the service did it");

    // Activity keeps an upload alive: a part arriving moves its clock past its creation.
    let before_part = Utc::now();
    let file = fw.file("2.0.img", &content(3 * PART, 1));
    let env = [("FLEET_TEST_STOP_AFTER_PARTS", "1")];
    fw.push_env(&file, "p1", "2.0", &[], &env).failure(1);
    let report = sweep(&fw, before_part + DAY, DAY);
    assert_eq!(report.expired, 0, "{report:?}");
    assert!(fw.binary("p1", "2.0").is_some());
}

#[test]
fn an_expired_upload_loses_its_part_files() {
    if !crate::common::backend::local_blobs("an_expired_upload_loses_its_part_files") {
        return;
    }
    let fw = setup();
    let binary = unfinished(&fw, "1.0", 4, 3);
    let bin = id(&binary);
    assert_eq!(files(&binary_dir(&fw, &bin)).len(), 3);
    let report = sweep(&fw, Utc::now() + DAY * 2, DAY);
    assert_eq!(report.expired, 1, "{report:?}");
    assert!(!binary_dir(&fw, &bin).exists());
}

#[test]
fn the_sweep_collects_orphaned_part_files_and_keeps_live_ones() {
    if !crate::common::backend::local_blobs(
        "the_sweep_collects_orphaned_part_files_and_keeps_live_ones",
    ) {
        return;
    }
    let fw = setup();
    let bytes = content(2 * PART + 7, 4);
    let file = fw.file("a.img", &bytes);
    let ready = id(&fw
        .push(&file, "p1", "1.0", &["-o", "json"])
        .success()
        .json());
    let uploading = id(&unfinished(&fw, "2.0", 3, 1));
    let ready_prefix = prefix_dir(&fw, &ready);
    let uploading_prefix = prefix_dir(&fw, &uploading);
    let live_ready = files(&ready_prefix);
    let live_uploading = files(&uploading_prefix);
    assert_eq!(live_ready.len(), 3);

    let plant = |path: PathBuf| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"leftover").expect("plant");
        path
    };
    // A crash between writing a part and renaming it, under the ready binary.
    let crashed = plant(ready_prefix.join(format!("{}#1", live_ready[0])));
    // A part that was replaced by another and never deleted.
    let replaced = plant(ready_prefix.join(format!("part-000002-{}", "0".repeat(64))));
    // An old prefix of the ready binary (the upload was started over).
    let old_prefix = plant(
        binary_dir(&fw, &ready)
            .join("0190aaaa")
            .join("part-000001-ab#1"),
    );
    // A binary that no longer exists.
    let gone = fleet::api::BinaryId::generate().to_string();
    let gone_file = plant(
        binary_dir(&fw, &gone)
            .join("0190bbbb")
            .join("part-000001-cd"),
    );
    // A write in progress for the unfinished upload: it may still finish, so it stays.
    let in_flight = plant(uploading_prefix.join("part-000002-ef#1"));

    let report = sweep(&fw, Utc::now(), DAY);
    assert_eq!(report.expired, 0);
    assert_eq!(report.objects_removed, 2, "{report:?}");
    assert_eq!(report.prefixes_removed, 2, "{report:?}");
    for path in [&crashed, &replaced, &old_prefix, &gone_file] {
        assert!(!path.exists(), "{} stayed", path.display());
    }
    assert!(!binary_dir(&fw, &gone).exists());
    assert!(
        in_flight.exists(),
        "an unfinished upload's write is left alone"
    );
    assert_eq!(files(&ready_prefix), live_ready);
    let mut expected = live_uploading.clone();
    expected.push("part-000002-ef#1".to_owned());
    expected.sort();
    assert_eq!(files(&uploading_prefix), expected);

    let out = fw.dir.path().join("out.img");
    let pull = [
        "firmware",
        "pull",
        "-P",
        "p1",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    fw.cli.run(&pull).success();
    assert_eq!(
        std::fs::read(&out).expect("pulled"),
        bytes,
        "the ready binary is intact"
    );
}

#[test]
fn complete_deletes_writes_a_crash_left_behind() {
    if !crate::common::backend::local_blobs("complete_deletes_writes_a_crash_left_behind") {
        return;
    }
    let fw = setup();
    let bytes = content(3 * PART, 5);
    let file = fw.file("a.img", &bytes);
    let env = [("FLEET_TEST_STOP_AFTER_PARTS", "2")];
    fw.push_env(&file, "p1", "1.0", &[], &env).failure(1);
    let bin = id(&fw.binary("p1", "1.0").expect("declared"));
    let prefix = prefix_dir(&fw, &bin);
    let leftover = prefix.join("part-000003-ab#1");
    std::fs::write(&leftover, b"half a part").expect("plant");

    fw.push(&file, "p1", "1.0", &[]).success();
    assert!(!leftover.exists(), "{:?}", files(&prefix));
    assert_eq!(files(&prefix).len(), 3, "just the three parts");
}

#[test]
fn deleting_a_product_deletes_its_firmware_files() {
    if !crate::common::backend::local_blobs("deleting_a_product_deletes_its_firmware_files") {
        return;
    }
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 6));
    let ready = id(&fw
        .push(&file, "p2", "1.0", &["-o", "json"])
        .success()
        .json());
    let partial = fw.file("b.img", &content(3 * PART, 7));
    let env = [("FLEET_TEST_STOP_AFTER_PARTS", "1")];
    fw.push_env(&partial, "p2", "2.0", &[], &env).failure(1);
    let uploading = id(&fw.binary("p2", "2.0").expect("declared"));
    let keep = id(&fw
        .push(&file, "p1", "1.0", &["-o", "json"])
        .success()
        .json());
    assert_eq!(files(&binary_dir(&fw, &ready)).len(), 2);
    assert_eq!(files(&binary_dir(&fw, &uploading)).len(), 1);

    fw.cli.run(&["product", "delete", "p2", "--yes"]).success();
    assert!(!binary_dir(&fw, &ready).exists());
    assert!(!binary_dir(&fw, &uploading).exists());
    assert_eq!(
        files(&binary_dir(&fw, &keep)).len(),
        2,
        "other products' stay"
    );
}

#[test]
fn the_upload_expiry_must_be_a_positive_duration() {
    let fw = setup();
    for bad in ["0s", "soon"] {
        let run = fw.cli.run(&["server", "--upload-expiry", bad]).failure(2);
        assert!(run.stderr.contains("--upload-expiry"), "{run:#?}");
    }
}
