//! Two pushes of one binary at once, interleaved exactly with the push's pause hook: the same
//! file pushed twice ends well for both ("already uploaded" for the one that finished second);
//! another file for the same version and target stays a conflict.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::common::cli::Run;
use crate::firmware_support::{Fw, PART, content, setup};

/// `fleet firmware push FILE -P p1 -a app -V 1.0 -t armv7 -o json`, started in the background
/// and paused once `parts` parts are sent: it creates `<dir>/paused`, and goes on once
/// `<dir>/resume` exists.
fn paused_push(fw: &Fw, file: &Path, parts: usize, dir: &Path) -> Child {
    let file = file.to_str().expect("utf-8");
    let args = [
        "firmware",
        "push",
        file,
        "-P",
        "p1",
        "-a",
        "app",
        "-V",
        "1.0",
        "-t",
        "armv7",
        "-o",
        "json",
        "--parallel",
        "1",
    ];
    let mut child = fw
        .cli
        .std_command()
        .args(args)
        .env("FLEET_TEST_PAUSE_AFTER_PARTS", parts.to_string())
        .env("FLEET_TEST_PAUSE_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fleet");
    let paused = dir.join("paused");
    // Waits for the push to reach its pause point (it says so by creating the file).
    while !paused.exists() {
        if let Some(status) = child.try_wait().expect("poll fleet") {
            panic!("the push ended before its pause point: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

fn resume(child: Child, dir: &Path) -> Run {
    std::fs::write(dir.join("resume"), b"").expect("resume");
    let output = child.wait_with_output().expect("wait for fleet");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn pause_dir(fw: &Fw) -> PathBuf {
    let dir = fw.dir.path().join("pause");
    std::fs::create_dir_all(&dir).expect("pause dir");
    dir
}

#[test]
fn the_same_file_pushed_twice_at_once_succeeds_for_both() {
    let fw = setup();
    let bytes = content(6 * PART, 11);
    let file = fw.file("app.img", &bytes);
    let dir = pause_dir(&fw);
    // The first push sends 2 of 6 parts and waits; the second sends the rest and completes.
    let first = paused_push(&fw, &file, 2, &dir);
    let second = fw.push(&file, "p1", "1.0", &["-o", "json"]).success();
    assert!(second.stderr.contains("resuming: 2 of 6"), "{second:#?}");
    assert_eq!(second.json()["state"], "ready");
    // The first goes on: its next part meets a ready binary, which is what it asked for.
    let first = resume(first, &dir).success();
    assert!(first.stderr.contains("already uploaded"), "{first:#?}");
    let out = first.json();
    assert_eq!(out["id"], second.json()["id"]);
    assert_eq!(out["state"], "ready");
    assert_eq!(out["sha256"], second.json()["sha256"]);
}

#[test]
fn another_file_pushed_meanwhile_is_still_a_conflict() {
    let fw = setup();
    let ours = fw.file("ours.img", &content(6 * PART, 12));
    let theirs = fw.file("theirs.img", &content(6 * PART, 13));
    let dir = pause_dir(&fw);
    let first = paused_push(&fw, &ours, 2, &dir);
    // Another file for the same version and target starts the upload over and completes.
    let other = fw.push(&theirs, "p1", "1.0", &["-o", "json"]).success();
    assert_eq!(other.json()["state"], "ready");
    let first = resume(first, &dir).failure(7);
    assert!(!first.stderr.contains("already uploaded"), "{first:#?}");
    let binary = fw.binary("p1", "1.0").expect("binary");
    assert_eq!(binary["sha256"], other.json()["sha256"], "theirs stays");
}
