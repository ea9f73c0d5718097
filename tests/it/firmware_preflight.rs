//! `fleet firmware push` checks its inputs before uploading: a missing or wrong signing key
//! file, an unknown product or cohort, and a policy that would refuse the release each fail
//! with nothing created on the service.

use crate::common::cli::Run;
use crate::firmware_support::{Fw, PART, content, setup};

/// No binary of any product exists on the service.
#[track_caller]
fn assert_nothing_uploaded(fw: &Fw, run: &Run) {
    let all = fw
        .cli
        .run(&["firmware", "list", "-o", "json"])
        .success()
        .json();
    assert_eq!(all, serde_json::json!([]), "a binary was created: {run:#?}");
}

#[test]
fn a_missing_sign_key_file_fails_before_uploading() {
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 1));
    let missing = fw.dir.path().join("no-such-key.pem");
    let run = fw.push(
        &file,
        "p1",
        "1.0",
        &["--sign-key", missing.to_str().expect("utf-8")],
    );
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("no-such-key.pem"), "{run:#?}");
    assert_nothing_uploaded(&fw, &run);
}

#[test]
fn a_public_key_given_as_the_private_key_fails_before_uploading() {
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 2));
    let public = ed25519_dalek::SigningKey::from_bytes(&[7; 32])
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .expect("pem");
    let key = fw.file("release.pub.pem", public.as_bytes());
    let run = fw
        .push(
            &file,
            "p1",
            "1.0",
            &["--sign-key", key.to_str().expect("utf-8")],
        )
        .failure(2);
    assert!(
        run.stderr.contains("is not an Ed25519 private key"),
        "{run:#?}"
    );
    assert_nothing_uploaded(&fw, &run);
}

#[test]
fn an_unknown_cohort_or_product_fails_before_uploading() {
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 3));
    let run = fw
        .push(
            &file,
            "p1",
            "1.0",
            &["--release-to", "no-such-cohort", "--rollout", "10"],
        )
        .failure(6);
    assert!(run.stderr.contains("no-such-cohort"), "{run:#?}");
    assert!(run.stderr.contains("nothing was uploaded"), "{run:#?}");
    assert_eq!(run.stderr.matches("hint:").count(), 1, "one hint: {run:#?}");
    assert_nothing_uploaded(&fw, &run);

    let run = fw.push(&file, "no-such-product", "1.0", &[]).failure(6);
    assert!(run.stderr.contains("no-such-product"), "{run:#?}");
    assert_nothing_uploaded(&fw, &run);
}

#[test]
fn a_release_the_policy_would_refuse_fails_before_uploading() {
    let fw = setup();
    fw.cli
        .run(&["firmware", "policy", "-P", "p1", "--require-signed", "true"])
        .success();
    let file = fw.file("a.img", &content(2 * PART, 4));
    let run = fw
        .push(
            &file,
            "p1",
            "1.0",
            &["--release-to", "beta", "--rollout", "10"],
        )
        .failure(7);
    assert!(run.stderr.contains("requires signed firmware"), "{run:#?}");
    assert!(run.stderr.contains("--sign-key"), "{run:#?}");
    assert_nothing_uploaded(&fw, &run);

    // Without a release the policy does not apply: an unsigned upload is allowed.
    fw.push(&file, "p1", "1.0", &[]).success();
}

#[test]
fn a_release_needs_an_explicit_rollout() {
    let fw = setup();
    let file = fw.file("a.img", &content(2 * PART, 5));
    let run = fw
        .push(&file, "p1", "1.0", &["--release-to", "beta"])
        .failure(2);
    assert!(run.stderr.contains("--rollout <PERCENT>"), "{run:#?}");
    assert_nothing_uploaded(&fw, &run);
    let help = fw.cli.run(&["firmware", "push", "--help"]).success();
    // Help wraps to the terminal's width: compare the words, not the line breaks.
    let words = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("required with --release-to"), "{help:#?}");
}
