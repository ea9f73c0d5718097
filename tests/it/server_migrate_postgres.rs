//! `fleet server migrate` from a populated SQLite data dir to PostgreSQL (a fresh schema of the
//! run's server, `FLEET_TEST_DATABASE_URL`) with the blobs in a new data dir, or in the run's
//! S3 server when it has one (`FLEET_TEST_S3_ENDPOINT`): the CLI sees the
//! same deployment on `fleet server --database-url`, and a second copy into it is refused.

use crate::cli_server;
use crate::server_migrate_support::{
    Schema, assert_clean_report, assert_same_deployment, populated_deployment, postgres_url,
};

#[test]
fn a_sqlite_deployment_moves_to_postgres_and_the_cli_sees_the_same_data() {
    let Some(base) = postgres_url("the SQLite-to-PostgreSQL migration test") else {
        return;
    };
    let schema = Schema::create(&base, "move");
    let url = schema.url();
    let deployment = populated_deployment();
    let new_home = tempfile::tempdir().expect("new data dir");
    let new_dir = new_home.path().to_str().expect("utf-8");
    let from = format!("sqlite:{}", deployment.data.path().display());
    // On the run with S3, the blobs go into the bucket instead of the new data dir.
    let blobs = crate::common::backend::blob_args(new_home.path());
    let mut args = vec![
        "server",
        "migrate",
        "--from",
        &from,
        "--to",
        &url,
        "--to-data-dir",
        new_dir,
        "-o",
        "json",
    ];
    args.extend(blobs.iter().map(String::as_str));
    let run = deployment.cli.run(&args).success();
    let report = run.json();
    assert_clean_report(&report);
    assert_eq!(
        report["to"]["database"],
        fleet::server::redact_database_url(&url)
    );

    // The old data dir goes away; the PostgreSQL database and the new blob dir stand alone.
    std::fs::remove_dir_all(deployment.data.path().join("blobs")).expect("remove old blobs");
    std::fs::remove_file(deployment.data.path().join("fleet.db")).expect("remove old db");
    let mut serve = vec!["--database-url", url.as_str()];
    serve.extend(blobs.iter().map(String::as_str));
    let running = cli_server::start(&deployment.cli, new_home.path(), &serve);
    assert!(
        !running.startup.join("\n").contains("created organization"),
        "{:?}",
        running.startup
    );
    assert_same_deployment(&deployment, &running);
    let (status, _) = cli_server::terminate(running);
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_second_copy_into_a_postgres_deployment_is_refused() {
    let Some(base) = postgres_url("the PostgreSQL non-empty target test") else {
        return;
    };
    let schema = Schema::create(&base, "twice");
    let url = schema.url();
    let deployment = populated_deployment();
    let from = format!("sqlite:{}", deployment.data.path().display());
    let first = deployment
        .cli
        .run(&[
            "server", "migrate", "--from", &from, "--to", &url, "-o", "json",
        ])
        .success();
    assert_eq!(
        first.json()["blobs"]["copied"],
        false,
        "blobs stay in the data dir"
    );
    let refused = deployment
        .cli
        .run(&["server", "migrate", "--from", &from, "--to", &url])
        .failure(7);
    assert!(
        refused.stderr.contains("already holds a fleet deployment"),
        "{refused:#?}"
    );
    let replaced = deployment
        .cli
        .run(&[
            "server",
            "migrate",
            "--from",
            &from,
            "--to",
            &url,
            "--replace",
            "--yes",
            "-o",
            "json",
        ])
        .success();
    assert_eq!(replaced.json()["problems"], serde_json::json!([]));
}
