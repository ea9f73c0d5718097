//! Several `fleet server` replica processes on one deployment (SQLite on one data dir, or
//! PostgreSQL when the run uses it), behind a real haproxy: the service keeps answering when a
//! replica is killed, a push finishes on the survivor, and a bulk move killed before its commit
//! leaves nothing behind.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::common::cli::Cli;
use crate::scale_support::{Deployment, LoadBalancer, path_str};

fn device_count(cli: &Cli, product: &str) -> usize {
    let run = cli
        .run(&["device", "list", "--product", product, "-o", "json"])
        .success();
    run.json().as_array().expect("a JSON array").len()
}

#[test]
fn the_load_balancer_keeps_answering_when_a_replica_is_killed() {
    let deployment = Deployment::new();
    let servers = Cli::new();
    let a = deployment.replica(&servers, &[]);
    let b = deployment.replica(&servers, &[]);
    let Some(lb) = LoadBalancer::start(&[&a, &b]) else {
        return;
    };
    let cli = Cli::with_profile(&lb.url, &deployment.key);
    cli.run(&["product", "create", "p1"]).success();
    for i in 0..6 {
        cli.run(&[
            "device",
            "create",
            &format!("before-{i}"),
            "--product",
            "p1",
        ])
        .success();
    }

    a.kill();
    // Every request after the kill is answered: the ones that found the dead replica are
    // retried on the live one by the load balancer, which also stops sending it traffic.
    for i in 0..6 {
        cli.run(&["device", "create", &format!("after-{i}"), "--product", "p1"])
            .success();
    }
    assert_eq!(device_count(&cli, "p1"), 12);
    drop(b);
}

#[test]
fn a_push_whose_replica_dies_midway_finishes_on_the_other() {
    let deployment = Deployment::new();
    let servers = Cli::new();
    let a = deployment.replica(&servers, &[]);
    let b = deployment.replica(&servers, &[]);
    let Some(lb) = LoadBalancer::start(&[&a, &b]) else {
        return;
    };
    let cli = Cli::with_profile(&lb.url, &deployment.key);
    cli.run(&["product", "create", "p1"]).success();
    let work = tempfile::tempdir().expect("temp dir");
    // Five parts of the service's default 8 MiB, the last one short.
    let file = work.path().join("app.img");
    let bytes: Vec<u8> = (0..(4 * 8 * 1024 * 1024 + 4096))
        .map(|i: usize| (i as u8).wrapping_mul(31).wrapping_add(7))
        .collect();
    std::fs::write(&file, &bytes).expect("write the image");
    let pause = work.path().join("pause");
    std::fs::create_dir_all(&pause).expect("pause dir");

    let mut push = cli
        .std_command()
        .args(["firmware", "push", path_str(&file)])
        .args([
            "-P",
            "p1",
            "-a",
            "app",
            "--version",
            "1.0",
            "-t",
            "armv7",
            "--parallel",
            "1",
        ])
        .env("FLEET_TEST_PAUSE_AFTER_PARTS", "2")
        .env("FLEET_TEST_PAUSE_DIR", &pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the push");
    wait_for(&pause.join("paused"));

    a.kill();
    std::fs::write(pause.join("resume"), b"").expect("resume the push");
    let status = push.wait().expect("wait for the push");
    let mut stderr = String::new();
    if let Some(mut err) = push.stderr.take() {
        use std::io::Read as _;
        let _ = err.read_to_string(&mut stderr);
    }
    assert!(
        status.success(),
        "the push finished on the live replica: {stderr}"
    );

    let out = work.path().join("pulled.img");
    cli.run(&[
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
        path_str(&out),
    ])
    .success();
    let pulled = std::fs::read(&out).expect("read the pulled image");
    assert_eq!(Sha256::digest(&pulled), Sha256::digest(&bytes));
    drop(b);
}

#[test]
fn a_bulk_move_killed_before_its_commit_moves_nothing() {
    const DEVICES: usize = 500;
    let deployment = Deployment::new();
    let servers = Cli::new();
    let hold = tempfile::tempdir().expect("temp dir");
    let a = deployment.replica(
        &servers,
        &[("FLEET_TEST_HOLD_BULK_COMMIT_DIR", hold.path())],
    );
    let b = deployment.replica(&servers, &[]);
    let on_b = Cli::with_profile(b.url(), &deployment.key);
    on_b.run(&["product", "create", "p1"]).success();
    on_b.run(&["product", "create", "p2"]).success();
    deployment.seed_devices("p1", "sn", DEVICES);

    let on_a = Cli::with_profile(a.url(), &deployment.key);
    let mut moving = on_a
        .std_command()
        .args([
            "device",
            "move",
            "--product",
            "p1",
            "--to-product",
            "p2",
            "--yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the move");
    // Every row is written; the commit has not happened.
    wait_for(&hold.path().join("holding"));
    a.kill();
    let status = moving.wait().expect("wait for the move");
    assert!(
        !status.success(),
        "the move's replica died before answering"
    );

    assert_eq!(device_count(&on_b, "p2"), 0, "nothing of the move survived");
    assert_eq!(device_count(&on_b, "p1"), DEVICES);
    let events = on_b
        .run(&["event", "list", "--action", "device.moved", "-o", "json"])
        .success();
    assert_eq!(events.json().as_array().map(Vec::len), Some(0));

    // The same move through the live replica goes through whole.
    on_b.run(&[
        "device",
        "move",
        "--product",
        "p1",
        "--to-product",
        "p2",
        "--yes",
    ])
    .success();
    assert_eq!(device_count(&on_b, "p2"), DEVICES);
    assert_eq!(device_count(&on_b, "p1"), 0);
}

/// Waits for a test hook's marker file (the hooks write it, then wait for the test).
fn wait_for(marker: &Path) {
    for _ in 0..6000 {
        if marker.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never appeared", marker.display());
}
