//! Exit codes scripts branch on: a missing local file is a usage error (2) naming the path, and
//! a push that uploaded but could not sign keeps its cause's code (never 1) and says the binary
//! is uploaded, ready and unsigned, and how to finish.

use crate::firmware_support::{PART, content, pause_dir, paused_push, resume, setup};

#[test]
fn pushing_a_missing_file_is_a_usage_error_naming_it() {
    let fw = setup();
    let missing = fw.dir.path().join("missing.img");
    let run = fw.push(&missing, "p1", "1.0", &[]).failure(2);
    assert!(run.stderr.contains("missing.img"), "{run:#?}");
    let listed = fw.cli.run(&["firmware", "list", "-P", "p1", "-o", "id"]);
    assert_eq!(listed.success().stdout, "", "nothing was declared");
}

#[test]
fn importing_a_missing_csv_is_a_usage_error_naming_it() {
    let fw = setup();
    let missing = fw.dir.path().join("MISSING.csv");
    let run = fw
        .cli
        .run(&[
            "device",
            "import",
            missing.to_str().expect("utf-8"),
            "--product",
            "p1",
        ])
        .failure(2);
    assert!(run.stderr.contains("MISSING.csv"), "{run:#?}");
}

#[test]
fn a_missing_sign_key_is_a_usage_error_naming_it() {
    let fw = setup();
    let file = fw.file("a.img", &content(PART + 1, 3));
    let key = fw.dir.path().join("nokey.pem");
    let run = fw.push(
        &file,
        "p1",
        "1.0",
        &["--sign-key", key.to_str().expect("utf-8")],
    );
    // Status lines of the upload may come first; the exit code and the error are what count.
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    assert!(
        run.stderr.contains("error: could not read") && run.stderr.contains("nokey.pem"),
        "{run:#?}"
    );

    let run = fw
        .cli
        .run(&[
            "signing-key",
            "register",
            "ci",
            "--key",
            key.to_str().expect("utf-8"),
        ])
        .failure(2);
    assert!(run.stderr.contains("nokey.pem"), "{run:#?}");
}

#[test]
fn a_push_that_uploaded_but_could_not_sign_says_what_it_left() {
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 4));
    let key = fw.dir.path().join("release.pem");
    let key_s = key.to_str().expect("utf-8");
    fw.cli
        .run(&["signing-key", "generate", "release", "--out", key_s])
        .success();
    // The push checks its keys before uploading, so the key disappears while it uploads: the
    // push pauses after its first part, the key is deleted, then the push goes on.
    let pause = pause_dir(&fw);
    let child = paused_push(&fw, &file, 1, &pause, &["--sign-key", key_s]);
    fw.cli
        .run(&["signing-key", "delete", "release", "--yes"])
        .success();
    let run = resume(child, &pause);
    let stderr = &run.stderr;

    assert_ne!(run.code, 1, "{stderr}");
    assert_eq!(
        run.code, 6,
        "a key the service no longer has is not found: {stderr}"
    );
    let binary = fw.binary("p1", "1.0").expect("uploaded");
    assert_eq!(binary["state"], "ready");
    let id = binary["id"].as_str().expect("id");
    assert!(
        stderr.contains(&format!("is uploaded and ready ({id}) but not signed")),
        "{stderr}"
    );
    assert!(stderr.contains("run the same push again"), "{stderr}");
}
