//! `bundle show`, `release show` and `release update` find a bundle or release by its ID alone,
//! without `--product`; a name without `--product` is a usage error.

use crate::firmware_support::{Fw, PART, content, setup};

/// A release of p1's app 1.0 to cohort `beta`; returns (bundle ID, release ID). Product `p2`
/// exists too, so the lookup has more than one product to ask.
fn released(fw: &Fw) -> (String, String) {
    let file = fw.file("a.img", &content(PART + 7, 5));
    let out = fw
        .push(
            &file,
            "p1",
            "1.0",
            &["--release-to", "beta", "--rollout", "10", "-o", "json"],
        )
        .success()
        .json();
    let id = |v: &serde_json::Value| v["id"].as_str().expect("id").to_owned();
    (id(&out["bundle"]), id(&out["release"]))
}

#[test]
fn bundle_show_by_id_needs_no_product() {
    let fw = setup();
    let (bundle, _) = released(&fw);
    let shown = fw
        .cli
        .run(&["bundle", "show", &bundle, "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["id"], bundle.as_str());
    assert_eq!(shown["product"], "p1");

    // A name is only unique within its product.
    let name = shown["name"].as_str().expect("name");
    let run = fw.cli.run(&["bundle", "show", name]).failure(2);
    assert!(run.stderr.contains("--product"), "{run:#?}");
    let with_product = fw
        .cli
        .run(&["bundle", "show", name, "-P", "p1", "-o", "id"])
        .success();
    assert_eq!(with_product.stdout.trim(), bundle);
}

#[test]
fn release_show_and_update_by_id_need_no_product() {
    let fw = setup();
    let (_, release) = released(&fw);
    let shown = fw
        .cli
        .run(&["release", "show", &release, "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["id"], release.as_str());
    assert_eq!(shown["product"], "p1");

    let updated = fw
        .cli
        .run(&[
            "release",
            "update",
            &release,
            "--rollout",
            "50",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(updated["id"], release.as_str());
    assert_eq!(updated["rollout_percent"], 50);
}

#[test]
fn an_unknown_release_id_is_not_found_and_a_non_id_is_a_usage_error() {
    let fw = setup();
    let unknown = "rel_0190c2d4a8f47d8e9b2f3c4d5e6f7a8b";
    let run = fw.cli.run(&["release", "show", unknown]).failure(6);
    assert!(run.stderr.contains(unknown), "{run:#?}");
    fw.cli.run(&["release", "show", "spring"]).failure(2);
}
