//! `fleet release create --schedule … --halt-on-failure-rate …`, `halt`, `resume` and
//! `promote` by CLI: what each does to the release, the events they record, and what they
//! refuse. Time moves only by the test's manual clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet::server::Clock;
use serde_json::Value;

use crate::common::cli::Cli;
use crate::common::server::TestServer;

fn start_time() -> DateTime<Utc> {
    "2030-01-01T00:00:00Z".parse().expect("time")
}

/// A service on `clock` with product `sensor`, cohort `canary` and a bundle of app 1.1.0
/// (pushed with a release at 0%); returns the bundle's name.
fn service(clock: &Clock, files: &std::path::Path) -> (TestServer, Cli, String) {
    let clock = clock.clone();
    let server = TestServer::start_with(move |config| {
        config.clock = clock;
        // The test evaluates when it chooses; the service's own tick stays out of the way.
        config.rollout_interval = Duration::from_secs(24 * 3600);
    });
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let file = files.join("app.bin");
    std::fs::write(&file, b"firmware").expect("firmware file");
    cli.run(&[
        "firmware",
        "push",
        file.to_str().expect("utf-8 path"),
        "-P",
        "sensor",
        "-a",
        "app",
        "--version",
        "1.1.0",
        "-t",
        "armv7",
        "--release-to",
        "canary",
        "--rollout",
        "0",
    ])
    .success();
    let releases = cli
        .run(&["release", "list", "-P", "sensor", "-o", "json"])
        .success()
        .json();
    let bundle = releases[0]["bundle"].as_str().expect("bundle").to_owned();
    (server, cli, bundle)
}

fn evaluate(server: &TestServer, clock: &Clock) -> fleet::server::RolloutEvaluation {
    let (storage, now) = (server.storage.clone(), clock.now());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fleet::server::evaluate_rollouts(storage, now))
            .expect("evaluate")
    })
    .join()
    .expect("thread")
}

fn events(cli: &Cli, action: &str, release: &str) -> Vec<Value> {
    cli.run(&[
        "event",
        "list",
        "--action",
        action,
        "--resource",
        release,
        "-o",
        "json",
    ])
    .success()
    .json()
    .as_array()
    .cloned()
    .unwrap_or_default()
}

#[test]
fn halt_resume_and_promote_change_the_rollout_and_record_their_events() {
    let files = tempfile::tempdir().expect("temp dir");
    let clock = Clock::manual(start_time());
    let (server, cli, bundle) = service(&clock, files.path());
    let created = cli
        .run(&[
            "release",
            "create",
            "-P",
            "sensor",
            "-c",
            "canary",
            "-b",
            &bundle,
            "--schedule",
            "1%,10%@1h,50%@6h,100%@24h",
            "--halt-on-failure-rate",
            "5%",
            "--min-reports",
            "20",
            "-o",
            "json",
        ])
        .success()
        .json();
    let release = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["rollout_percent"], 1, "{created}");
    assert_eq!(created["current_step"], 1, "{created}");
    assert_eq!(created["schedule"].as_array().map(Vec::len), Some(4));
    assert_eq!(created["schedule"][3]["after_s"], 24 * 3600);
    assert_eq!(created["guard"]["halt_on_failure_rate"], 5.0);
    assert_eq!(created["guard"]["min_reports"], 20);
    assert_eq!(created["next_step_at"], "2030-01-01T01:00:00Z");

    let run = |args: &[&str]| {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[release.as_str(), "-o", "json"]);
        cli.run(&all)
    };

    let promoted = run(&["promote"]).success().json();
    assert_eq!(promoted["rollout_percent"], 10, "{promoted}");
    assert_eq!(promoted["current_step"], 2, "{promoted}");
    let jumped = run(&["promote", "--to", "60%"]).success().json();
    assert_eq!(jumped["rollout_percent"], 60, "{jumped}");
    assert_eq!(jumped["current_step"], 3, "{jumped}");
    assert_eq!(
        jumped["next_step_at"], "2030-01-02T00:00:00Z",
        "100% a day on"
    );
    let promotions = events(&cli, "release.promoted", &release);
    assert_eq!(promotions.len(), 2, "{promotions:?}");
    assert_eq!(promotions[1]["details"]["from_percent"], 10);
    assert_eq!(promotions[1]["details"]["to_percent"], 60);
    assert!(promotions[1]["key_id"].is_string(), "a person's act");
    // Promote only raises.
    assert!(
        run(&["promote", "--to", "50%"])
            .failure(7)
            .stderr
            .contains("already at 60%")
    );

    let halted = run(&["halt"]).success().json();
    assert_eq!(halted["state"], "halted", "{halted}");
    assert_eq!(halted["next_step_at"], Value::Null, "{halted}");
    assert_eq!(
        run(&["halt"]).success().json()["revision"],
        halted["revision"]
    );
    let halts = events(&cli, "release.halted", &release);
    assert_eq!(halts.len(), 1, "halting twice records once: {halts:?}");
    assert_eq!(halts[0]["details"]["by"], "person");
    let refused = run(&["promote"]).failure(7);
    assert!(refused.stderr.contains("halted"), "{}", refused.stderr);
    clock.advance(Duration::from_secs(48 * 3600));
    assert_eq!(evaluate(&server, &clock).advanced, 0, "halted: no step");

    let resumed = run(&["resume"]).success().json();
    assert_eq!(resumed["state"], "active", "{resumed}");
    assert_eq!(resumed["rollout_percent"], 60, "{resumed}");
    assert_eq!(
        resumed["step_applied_at"], "2030-01-03T00:00:00Z",
        "{resumed}"
    );
    assert_eq!(
        resumed["next_step_at"], "2030-01-04T00:00:00Z",
        "the wait starts over"
    );
    assert_eq!(events(&cli, "release.resumed", &release).len(), 1);
    assert_eq!(
        run(&["resume"]).success().json()["revision"],
        resumed["revision"]
    );

    clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(evaluate(&server, &clock).advanced, 1);
    let shown = run(&["show"]).success().json();
    assert_eq!(shown["rollout_percent"], 100, "{shown}");
    assert_eq!(shown["state"], "completed", "{shown}");
    let advanced = events(&cli, "release.advanced", &release);
    assert_eq!(advanced.len(), 1, "{advanced:?}");
    assert!(advanced[0]["key_id"].is_null(), "the service's act");
    let last = run(&["promote"]).failure(7);
    assert!(last.stderr.contains("last step"), "{}", last.stderr);
}

#[test]
fn a_schedule_that_does_not_read_is_a_usage_error_before_any_request() {
    let cases: &[&[&str]] = &[
        &["--schedule", "10%,5%@1h"],
        &["--schedule", "10%,50%@soon"],
        &["--schedule", "10%", "--rollout", "20"],
        &["--halt-on-failure-rate", "120%"],
        &["--min-reports", "0"],
    ];
    // A profile whose service is down: a request would exit 8, not 2.
    let cli = Cli::with_profile(&crate::common::cli::dead_url(), "key");
    let base = ["release", "create", "-P", "p", "-c", "c", "-b", "b"];
    for extra in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{extra:?}: {run:#?}");
    }
    let mut args = base.to_vec();
    args.extend_from_slice(&["--schedule", "10%,5%@1h"]);
    let run = cli.run(&args);
    assert!(
        run.stderr.contains("must be above step 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_running_service_takes_a_due_step_by_itself() {
    let clock = Clock::manual(start_time());
    let ticking = clock.clone();
    let server = TestServer::start_with(move |config| {
        config.clock = ticking;
        config.rollout_interval = Duration::from_millis(20);
    });
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let files = tempfile::tempdir().expect("temp dir");
    let file = files.path().join("app.bin");
    std::fs::write(&file, b"firmware").expect("firmware file");
    let pushed = cli
        .run(&[
            "firmware",
            "push",
            file.to_str().expect("utf-8 path"),
            "-P",
            "sensor",
            "-a",
            "app",
            "--version",
            "1.1.0",
            "-t",
            "armv7",
            "-o",
            "json",
        ])
        .success()
        .json();
    let binary = pushed["binary"]["id"]
        .as_str()
        .or(pushed["id"].as_str())
        .expect("binary id")
        .to_owned();
    cli.run(&[
        "bundle", "create", "spring", "-P", "sensor", "--binary", &binary,
    ])
    .success();
    let created = cli
        .run(&[
            "release",
            "create",
            "-P",
            "sensor",
            "-c",
            "canary",
            "-b",
            "spring",
            "--schedule",
            "10%,50%@1h",
            "-o",
            "json",
        ])
        .success()
        .json();
    let release = created["id"].as_str().expect("id").to_owned();
    clock.advance(Duration::from_secs(3600));
    // The service's own controller, not the test, takes the step: look until it did (a bounded
    // number of looks, each a CLI run; nothing here depends on how long that takes).
    let mut percent = Value::Null;
    for _ in 0..2000 {
        percent = cli
            .run(&["release", "show", &release, "-o", "json"])
            .success()
            .json()["rollout_percent"]
            .clone();
        if percent == 50 {
            break;
        }
    }
    assert_eq!(percent, 50);
    assert_eq!(events(&cli, "release.advanced", &release).len(), 1);
}

/// `release status --wait` as a CI gate: exit 0 when the rollout is reached, 9 when the release
/// is halted, 3 at the timeout (a release that never grows: the code does not depend on timing).
#[test]
fn release_status_wait_exits_with_the_documented_codes() {
    let clock = Clock::manual(start_time());
    let files = tempfile::tempdir().expect("temp dir");
    let (_server, cli, bundle) = service(&clock, files.path());
    let create = |rollout: &str| {
        cli.run(&[
            "release",
            "create",
            "-P",
            "sensor",
            "--cohort",
            "canary",
            "--bundle",
            &bundle,
            "--rollout",
            rollout,
            "-o",
            "id",
        ])
        .success()
        .stdout
        .trim()
        .to_owned()
    };
    let wait = |release: &str, extra: &[&str]| {
        let mut argv = vec!["release", "status", release, "--wait", "--poll", "50ms"];
        argv.extend_from_slice(extra);
        cli.run(&argv)
    };

    let full = create("100");
    let reached = wait(&full, &["-o", "json"]).success();
    assert!(
        reached.stderr.contains(&format!("{full}: 100%")),
        "{reached:#?}"
    );
    assert!(
        reached.json()["updates"].is_array(),
        "the figures at the end: {reached:#?}"
    );

    let partial = create("10");
    // Progress lines come before the error, so not `failure()` (which wants `error:` first).
    let timed_out = wait(&partial, &["--timeout", "300ms"]);
    assert_eq!(timed_out.code, 3, "{timed_out:#?}");
    assert!(
        timed_out.stderr.contains("error: gave up waiting"),
        "{timed_out:#?}"
    );
    assert!(
        timed_out.stderr.contains(&format!("{partial}: 10%")),
        "{timed_out:#?}"
    );

    cli.run(&["release", "halt", &partial]).success();
    let halted = wait(&partial, &[]);
    assert_eq!(halted.code, 9, "{halted:#?}");
    assert!(halted.stderr.contains("was halted at 10%"), "{halted:#?}");

    let both = cli.run(&["release", "status", &full, "--wait", "--watch"]);
    assert_eq!(both.code, 2, "--wait and --watch do not mix: {both:#?}");
}
