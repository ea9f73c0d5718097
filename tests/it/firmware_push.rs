//! `fleet firmware push` end to end: resume after an interruption, idempotent re-push, edge
//! sizes, a file that changes during the push, conflicts, archived products, signing, release,
//! and `fleet firmware pull`.

use crate::firmware_support::{PART, content, setup};

fn id(binary: &serde_json::Value) -> String {
    binary["id"].as_str().expect("id").to_owned()
}

#[test]
fn an_interrupted_push_resumes_sending_only_the_missing_parts() {
    let fw = setup();
    let bytes = content(10 * PART + 100, 1); // 11 parts
    let file = fw.file("app.img", &bytes);
    let stopped = fw.push_env(
        &file,
        "p1",
        "1.0",
        &[],
        &[("FLEET_TEST_STOP_AFTER_PARTS", "4")],
    );
    let stopped = stopped.failure(1);
    assert!(
        stopped.stderr.contains("stopped after 4 of 11 parts"),
        "{stopped:#?}"
    );
    let binary = fw.binary("p1", "1.0").expect("binary declared");
    assert_eq!(binary["state"], "uploading");
    let bin = id(&binary);
    assert_eq!(fw.parts_received(&bin), 4);

    let resumed = fw.push(&file, "p1", "1.0", &["-o", "json"]).success();
    assert!(
        resumed.stderr.contains("resuming: 4 of 11 parts"),
        "{resumed:#?}"
    );
    assert!(
        resumed.stderr.contains("7 of 11 parts sent"),
        "{resumed:#?}"
    );
    assert_eq!(
        fw.parts_received(&bin),
        11,
        "only the 7 missing parts were sent again"
    );
    let out = resumed.json();
    assert_eq!(out["id"], bin.as_str());
    assert_eq!(out["state"], "ready");
    assert_eq!(out["size"], bytes.len());

    let pulled = fw.dir.path().join("pulled.img");
    let pulled_s = pulled.to_str().expect("utf-8");
    fw.cli
        .run(&[
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
            pulled_s,
        ])
        .success();
    assert_eq!(std::fs::read(&pulled).expect("pulled file"), bytes);
}

#[test]
fn pushing_the_same_file_again_uploads_nothing() {
    let fw = setup();
    let file = fw.file("app.img", &content(3 * PART, 2));
    fw.push(&file, "p1", "1.0", &[]).success();
    let bin = id(&fw.binary("p1", "1.0").expect("binary"));
    assert_eq!(fw.parts_received(&bin), 3);
    let again = fw.push(&file, "p1", "1.0", &["-o", "id"]).success();
    assert!(again.stderr.contains("already uploaded"), "{again:#?}");
    assert_eq!(again.stdout.trim(), bin);
    assert_eq!(
        fw.parts_received(&bin),
        3,
        "nothing was sent the second time"
    );
}

#[test]
fn empty_files_and_exact_multiples_of_the_part_size_push_and_pull_intact() {
    let fw = setup();
    for (version, len) in [("0.0", 0), ("2.0", 4 * PART), ("3.0", PART)] {
        let bytes = content(len, 3);
        let file = fw.file(&format!("{version}.img"), &bytes);
        let run = fw.push(&file, "p1", version, &["-o", "json"]).success();
        let binary = run.json();
        assert_eq!(binary["state"], "ready");
        assert_eq!(binary["size"], len);
        assert_eq!(binary["part_count"], len.div_ceil(PART));
        let out = fw.dir.path().join(format!("{version}.out"));
        let out_s = out.to_str().expect("utf-8");
        fw.cli
            .run(&[
                "firmware",
                "pull",
                "-P",
                "p1",
                "-a",
                "app",
                "--version",
                version,
                "-t",
                "armv7",
                "--out",
                out_s,
            ])
            .success();
        assert_eq!(std::fs::read(&out).expect("pulled"), bytes, "{version}");
    }
}

#[test]
fn a_file_changed_during_the_push_is_an_error_and_a_rerun_succeeds() {
    let fw = setup();
    let file = fw.file("app.img", &content(5 * PART, 4));
    let run = fw.push_env(
        &file,
        "p1",
        "1.0",
        &[],
        &[("FLEET_TEST_MUTATE_AFTER_HASH", "1")],
    );
    let run = run.failure(1);
    assert!(
        run.stderr.contains("changed while it was being pushed"),
        "{run:#?}"
    );
    let binary = fw.binary("p1", "1.0").expect("declared");
    assert_eq!(binary["state"], "uploading", "nothing was completed");
    let changed = std::fs::read(&file).expect("file");
    let rerun = fw.push(&file, "p1", "1.0", &["-o", "json"]).success();
    let ready = rerun.json();
    assert_eq!(ready["state"], "ready");
    assert_eq!(
        ready["id"], binary["id"],
        "the unfinished upload was started over, not blocked"
    );
    let out = fw.dir.path().join("out.img");
    fw.cli
        .run(&[
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
        ])
        .success();
    assert_eq!(std::fs::read(&out).expect("pulled"), changed);
}

#[test]
fn another_file_for_a_ready_version_and_target_is_a_conflict() {
    let fw = setup();
    let first = fw.file("a.img", &content(2 * PART, 5));
    let second = fw.file("b.img", &content(2 * PART, 6));
    fw.push(&first, "p1", "1.0", &[]).success();
    let run = fw.push(&second, "p1", "1.0", &[]).failure(7);
    assert!(run.stderr.contains("immutable"), "{run:#?}");
    assert!(run.stderr.contains("new version"), "{run:#?}");
    // The other file goes in fine as a new version.
    fw.push(&second, "p1", "1.1", &[]).success();
}

#[test]
fn pushing_to_an_archived_product_is_refused_and_creates_nothing() {
    let fw = setup();
    fw.cli.run(&["product", "archive", "p2", "--yes"]).success();
    let file = fw.file("a.img", &content(PART, 7));
    let run = fw.push(&file, "p2", "1.0", &[]).failure(7);
    assert!(run.stderr.contains("archived"), "{run:#?}");
    let list = fw
        .cli
        .run(&["firmware", "list", "-P", "p2", "-o", "json"])
        .success();
    assert_eq!(list.json(), serde_json::json!([]));
    let artifact = fw
        .cli
        .run(&["event", "list", "--action", "artifact.created", "-o", "id"]);
    assert!(
        artifact.success().stdout.is_empty(),
        "no artifact was created"
    );
}

#[test]
fn push_signs_with_registered_keys_and_refuses_unknown_ones() {
    let fw = setup();
    let key = fw.dir.path().join("release.pem");
    let key_s = key.to_str().expect("utf-8");
    fw.cli
        .run(&["signing-key", "generate", "release", "--out", key_s])
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read(&key).expect("key");
    let again = fw
        .cli
        .run(&["signing-key", "generate", "other", "--out", key_s]);
    again.failure(1);
    assert_eq!(std::fs::read(&key).expect("key"), pem, "never overwritten");

    let file = fw.file("a.img", &content(2 * PART, 8));
    let signed = fw
        .push(&file, "p1", "1.0", &["--sign-key", key_s, "-o", "json"])
        .success();
    assert_eq!(signed.json()["signatures"][0]["key_name"], "release");
    assert!(signed.stderr.contains("signed with 1 key\n"), "{signed:#?}");

    // A key the service does not know: not found (6), and the binary stays as it was.
    let stranger = fw.dir.path().join("stranger.pem");
    let stranger_s = stranger.to_str().expect("utf-8");
    std::fs::write(&stranger, private_pem(9)).expect("write key");
    let run = fw.push(&file, "p1", "1.0", &["--sign-key", stranger_s]);
    assert_eq!(run.code, 6, "{run:#?}");
    assert!(run.stderr.contains("error: the key in"), "{run:#?}");
    assert!(run.stderr.contains("not registered"), "{run:#?}");
    let binary = fw.binary("p1", "1.0").expect("binary");
    assert_eq!(binary["signatures"].as_array().map(Vec::len), Some(1));
}

/// A PKCS#8 PEM private key from a fixed seed.
fn private_pem(seed: u8) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .expect("pem")
        .to_string()
}

#[test]
fn push_with_release_to_releases_once_and_enforces_the_product() {
    let fw = setup();
    let file = fw.file("a.img", &content(PART + 1, 10));
    let run = fw
        .push(
            &file,
            "p1",
            "1.0",
            &["--release-to", "beta", "--rollout", "25", "-o", "json"],
        )
        .success();
    let out = run.json();
    assert_eq!(out["binary"]["state"], "ready");
    assert_eq!(out["release"]["cohort"], "beta");
    assert_eq!(out["release"]["rollout_percent"], 25);
    assert_eq!(
        out["bundle"]["binaries"][0]["binary_id"],
        out["binary"]["id"]
    );
    // Again: nothing new.
    let again = fw.push(
        &file,
        "p1",
        "1.0",
        &["--release-to", "beta", "--rollout", "25", "-o", "json"],
    );
    assert_eq!(
        again.success().json()["release"]["id"],
        out["release"]["id"]
    );
    let history = fw.cli.run(&[
        "release", "list", "-P", "p1", "--cohort", "beta", "-o", "json",
    ]);
    assert_eq!(history.success().json().as_array().map(Vec::len), Some(1));

    // A cohort of another product: the release is refused (the bundle is p1's).
    let bundle = out["bundle"]["id"].as_str().expect("bundle id");
    let refused = fw.cli.run(&[
        "release", "create", "-P", "p2", "--cohort", "other", "--bundle", bundle,
    ]);
    let refused = refused.failure(7);
    assert!(
        refused.stderr.contains("cohort's own product"),
        "{refused:#?}"
    );
    let none = fw
        .cli
        .run(&["release", "list", "-P", "p2", "-o", "json"])
        .success();
    assert_eq!(none.json(), serde_json::json!([]));
}
