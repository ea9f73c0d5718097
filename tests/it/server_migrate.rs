//! `fleet server migrate` between two data dirs (SQLite and local blobs on both sides, so it
//! runs everywhere): the copy is complete and verified, the CLI sees the same deployment on
//! the new data dir, a target that already holds a deployment is refused until `--replace`,
//! and bad locations are usage errors.

use crate::cli_server;
use crate::common::cli::Cli;
use crate::server_migrate_support::{
    assert_clean_report, assert_same_deployment, populated_deployment,
};

#[test]
fn a_deployment_moves_to_a_new_data_dir_and_the_cli_sees_the_same_data() {
    let deployment = populated_deployment();
    let target = tempfile::tempdir().expect("target dir");
    let to = target.path().join("fleet");
    let from = format!("sqlite:{}", deployment.data.path().display());
    let to_arg = format!("sqlite:{}", to.display());
    let run = deployment
        .cli
        .run(&[
            "server", "migrate", "--from", &from, "--to", &to_arg, "-o", "json",
        ])
        .success();
    assert_clean_report(&run.json());
    assert!(
        run.stderr
            .contains("every table and blob matches its source"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains(&format!("fleet server --data-dir {}", to.display())),
        "the hint says how to start on the copy: {run:#?}"
    );

    // The old data dir goes away: the new one stands on its own.
    let source_dir = deployment.data.path().to_path_buf();
    std::fs::remove_file(source_dir.join("fleet.db")).expect("remove the old database");
    std::fs::remove_dir_all(source_dir.join("blobs")).expect("remove the old blobs");
    let running = cli_server::start(&deployment.cli, &to, &[]);
    assert!(
        !running.startup.join("\n").contains("created organization"),
        "the copy is a deployment already; nothing is bootstrapped: {:?}",
        running.startup
    );
    assert_same_deployment(&deployment, &running);
    let (status, _) = cli_server::terminate(running);
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_summary_table_lists_every_table_and_the_blobs() {
    let deployment = populated_deployment();
    let target = tempfile::tempdir().expect("target dir");
    let from = format!("sqlite:{}/fleet.db", deployment.data.path().display());
    let to = format!("sqlite:{}", target.path().display());
    let run = deployment
        .cli
        .run(&["server", "migrate", "--from", &from, "--to", &to])
        .success();
    let lines = run.lines();
    assert!(lines[0].starts_with("TABLE"), "{run:#?}");
    let row = |name: &str| {
        lines
            .iter()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {run:#?}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(row("devices"), ["devices", "2", "2", "same", "content"]);
    assert_eq!(row("organizations")[1..3], ["1", "1"]);
    let blobs = lines.last().expect("a blob row");
    assert!(blobs.starts_with("firmware blobs"), "{run:#?}");
    assert!(blobs.contains("same size and SHA-256"), "{run:#?}");
}

#[test]
fn a_target_holding_a_deployment_is_refused_until_replace() {
    let deployment = populated_deployment();
    // The target was started once: it bootstrapped an organization and a key of its own.
    let other = Cli::new();
    let target = tempfile::tempdir().expect("target dir");
    let running = cli_server::start(&other, target.path(), &[]);
    other.run(&["product", "create", "theirs"]).success();
    let (status, _) = cli_server::terminate(running);
    assert!(status.success());

    let from = format!("sqlite:{}", deployment.data.path().display());
    let to = format!("sqlite:{}", target.path().display());
    let refused = deployment
        .cli
        .run(&["server", "migrate", "--from", &from, "--to", &to])
        .failure(7);
    assert!(
        refused.stderr.contains("already holds a fleet deployment")
            && refused.stderr.contains("products: 1"),
        "{refused:#?}"
    );
    assert!(refused.stderr.contains("hint: ") && refused.stderr.contains("--replace"));

    // Untouched: its own product and key still there, nothing of the source.
    let running = cli_server::start(&other, target.path(), &[]);
    let listed = other
        .run_with_env(
            &["product", "list", "-o", "id"],
            &[("FLEET_API_URL", &running.url)],
        )
        .success();
    assert_eq!(listed.lines().len(), 1, "{listed:#?}");
    let (status, _) = cli_server::terminate(running);
    assert!(status.success());

    // Without a terminal, --replace needs --yes.
    deployment
        .cli
        .run(&[
            "server",
            "migrate",
            "--from",
            &from,
            "--to",
            &to,
            "--replace",
        ])
        .failure(3);
    let replaced = deployment
        .cli
        .run(&[
            "server",
            "migrate",
            "--from",
            &from,
            "--to",
            &to,
            "--replace",
            "--yes",
            "-o",
            "json",
        ])
        .success();
    assert_clean_report(&replaced.json());
    let running = cli_server::start(&deployment.cli, target.path(), &[]);
    assert_same_deployment(&deployment, &running);
    let (status, _) = cli_server::terminate(running);
    assert!(status.success());
}

#[test]
fn bad_locations_are_usage_errors() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let missing = format!("sqlite:{}", dir.path().join("nothing-here").display());
    let new = format!("sqlite:{}", dir.path().join("new").display());

    let run = cli
        .run(&["server", "migrate", "--from", &missing, "--to", &new])
        .failure(2);
    assert!(
        run.stderr.contains("there is no fleet database at"),
        "{run:#?}"
    );
    assert!(
        !dir.path().join("nothing-here").exists(),
        "a missing source is not created: {run:#?}"
    );

    let run = cli
        .run(&[
            "server",
            "migrate",
            "--from",
            "mysql://fleet:s3cret@db/fleet",
            "--to",
            &new,
        ])
        .failure(2);
    assert!(run.stderr.contains("not a PostgreSQL URL"), "{run:#?}");
    assert!(!run.stderr.contains("s3cret"), "{run:#?}");

    let run = cli
        .run(&["server", "migrate", "--from", &new, "--to", &new])
        .failure(2);
    assert!(run.stderr.contains("are the same database"), "{run:#?}");

    let run = cli
        .run(&[
            "server",
            "migrate",
            "--from",
            &new,
            "--to",
            &new,
            "--to-data-dir",
            "/tmp",
        ])
        .failure(2);
    assert!(
        run.stderr
            .contains("--to-data-dir goes with a PostgreSQL --to"),
        "{run:#?}"
    );
}

#[test]
fn an_unreachable_target_fails_with_the_network_exit_code_and_no_password() {
    let deployment = populated_deployment();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let from = format!("sqlite:{}", deployment.data.path().display());
    let to = format!("postgres://fleet:s3cret@127.0.0.1:{port}/fleet");
    let run = deployment
        .cli
        .run(&["server", "migrate", "--from", &from, "--to", &to])
        .failure(8);
    assert!(
        run.stderr.contains(&format!(
            "could not open the PostgreSQL database postgres://fleet:***@127.0.0.1:{port}/fleet"
        )),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("hint: is PostgreSQL running"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("s3cret"), "{run:#?}");
}
