//! What a push says while it runs: progress lines in human units when stderr is not a terminal
//! (only for transfers long enough to wonder about), and after Ctrl-C, how to resume.

use std::process::Command;

use crate::common::cli::Cli;
use crate::common::server::TestServer;
use crate::firmware_support::{PART, content, pause_dir, paused_push, setup};

#[test]
fn progress_lines_use_human_units_and_only_for_large_transfers() {
    // The service's own part size (8 MiB): the test setup's small parts would cap the size.
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    let dir = tempfile::tempdir().expect("temp dir");
    let large = dir.path().join("large.img");
    std::fs::write(&large, content(16 * 1024 * 1024 + 5, 3)).expect("write");
    let large = large.to_str().expect("utf-8");
    let run = cli
        .run(&[
            "firmware",
            "push",
            large,
            "-P",
            "p1",
            "-a",
            "app",
            "--version",
            "1.0",
            "-t",
            "armv7",
        ])
        .success();
    let lines = |label: &str| -> Vec<String> {
        run.stderr
            .lines()
            .filter(|l| l.starts_with(label) && l.contains("% ("))
            .map(str::to_owned)
            .collect()
    };
    let hashing = lines("hashing ");
    assert_eq!(hashing.len(), 4, "one line per quarter: {run:#?}");
    assert_eq!(
        hashing[3], "hashing 100% (16.0 MiB of 16.0 MiB)",
        "{run:#?}"
    );
    // Parts of 8 MiB cross two quarters at once: one line each time, the last at 100%.
    let uploading = lines("uploading ");
    assert_eq!(
        uploading.last().map(String::as_str),
        Some("uploading 100% (16.0 MiB of 16.0 MiB)"),
        "{run:#?}"
    );
    assert!(
        hashing
            .iter()
            .chain(&uploading)
            .all(|l| l.contains(" MiB of 16.0 MiB)")),
        "{run:#?}"
    );
    assert!(!run.stderr.contains(" bytes)"), "{run:#?}");
    // Each line's percentage is where the transfer is, not the quarter it crossed.
    for line in hashing.iter().chain(&uploading) {
        let percent: f64 = line
            .split_once(' ')
            .and_then(|(_, rest)| rest.split_once('%'))
            .and_then(|(n, _)| n.parse().ok())
            .expect("a percentage");
        let mib: f64 = line
            .split_once("% (")
            .and_then(|(_, rest)| rest.split_once(' '))
            .and_then(|(n, _)| n.parse().ok())
            .expect("bytes done");
        assert!(
            (percent - mib * 100.0 / 16.0).abs() <= 1.0,
            "{line}: {run:#?}"
        );
    }

    let fw = setup();
    let small = fw.file("small.img", &content(3 * PART, 4));
    let run = fw.push(&small, "p1", "2.0", &[]).success();
    assert!(
        !run.stderr.contains("% ("),
        "no percentages for a small file: {run:#?}"
    );
}

#[test]
fn ctrl_c_during_the_upload_says_how_to_resume_and_a_rerun_does() {
    let fw = setup();
    let file = fw.file("app.img", &content(5 * PART, 9));
    let dir = pause_dir(&fw);
    let child = paused_push(&fw, &file, 2, &dir, &[]);
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait for fleet");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "cancelled: {stderr}");
    assert!(
        stderr.contains("push interrupted: app 1.0 for armv7"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run the same command again to resume"),
        "{stderr}"
    );
    let binary = fw.binary("p1", "1.0").expect("binary declared");
    assert_eq!(binary["state"], "uploading");

    let resumed = fw.push(&file, "p1", "1.0", &[]).success();
    assert!(
        resumed.stderr.contains("resuming: 2 of 5 parts"),
        "{resumed:#?}"
    );
    assert!(resumed.stderr.contains("3 of 5 parts sent"), "{resumed:#?}");
}
