//! Two pushes of one binary at once, interleaved exactly with the push's pause hook: the same
//! file pushed twice ends well for both ("already uploaded" for the one that finished second);
//! another file for the same version and target stays a conflict.

use crate::firmware_support::{PART, content, pause_dir, paused_push, resume, setup};

#[test]
fn the_same_file_pushed_twice_at_once_succeeds_for_both() {
    let fw = setup();
    let bytes = content(6 * PART, 11);
    let file = fw.file("app.img", &bytes);
    let dir = pause_dir(&fw);
    // The first push sends 2 of 6 parts and waits; the second sends the rest and completes.
    let first = paused_push(&fw, &file, 2, &dir, &["-o", "json"]);
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
    let first = paused_push(&fw, &ours, 2, &dir, &["-o", "json"]);
    // Another file for the same version and target starts the upload over and completes.
    let other = fw.push(&theirs, "p1", "1.0", &["-o", "json"]).success();
    assert_eq!(other.json()["state"], "ready");
    let first = resume(first, &dir).failure(7);
    assert!(!first.stderr.contains("already uploaded"), "{first:#?}");
    let binary = fw.binary("p1", "1.0").expect("binary");
    assert_eq!(binary["sha256"], other.json()["sha256"], "theirs stays");
}
