//! `fleet server --database-url` (and `FLEET_DATABASE_URL`): a bad URL, an unknown scheme or an
//! unreachable server fail before anything starts, with the exit code of DESIGN §5 and never
//! with the password; `--help` never shows the variable's value. On PostgreSQL (when the run
//! has one): the first start bootstraps as on SQLite, the startup line names the database,
//! a wrong password exits 4, and offline key recovery works there too.

use crate::cli_server::{start_with, terminate};
use crate::common::cli::Cli;
use crate::server_migrate_support::{Schema, postgres_url, with_password};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn a_bad_database_url_is_a_usage_error_that_hides_the_password() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8");
    for url in [
        "mysql://fleet:s3cret@db/fleet",
        "postgres://fleet:s3cret@db:notaport/fleet",
        "s3cret",
    ] {
        let run = cli
            .run(&["server", "--data-dir", data, "--database-url", url])
            .failure(2);
        assert!(
            run.stderr.contains("invalid value for --database-url"),
            "{run:#?}"
        );
        assert!(run.stderr.contains("hint: "), "{run:#?}");
        assert!(!run.stderr.contains("s3cret"), "{url}: {run:#?}");
        let run = cli
            .run_with_env(
                &["server", "--data-dir", data],
                &[("FLEET_DATABASE_URL", url)],
            )
            .failure(2);
        assert!(!run.stderr.contains("s3cret"), "{url}: {run:#?}");
    }
    let run = cli
        .run(&[
            "server",
            "--data-dir",
            data,
            "--database-url",
            "sqlite:/tmp/x.db",
        ])
        .failure(2);
    assert!(run.stderr.contains("SQLite is the default"), "{run:#?}");
    assert!(
        std::fs::read_dir(dir.path())
            .expect("read dir")
            .next()
            .is_none(),
        "nothing was created in the data dir"
    );

    let run = cli
        .run(&[
            "server",
            "api-key",
            "create",
            "--data-dir",
            data,
            "--role",
            "admin",
            "--database-url",
            "mysql://fleet:s3cret@db/fleet",
        ])
        .failure(2);
    assert!(run.stderr.contains("not a PostgreSQL URL"), "{run:#?}");
    assert!(!run.stderr.contains("s3cret"), "{run:#?}");
}

#[test]
fn help_names_the_flag_but_never_the_value_of_its_variable() {
    let cli = Cli::new();
    let url = "postgres://fleet:s3cret@db.internal/fleet";
    for args in [
        &["server", "--help"][..],
        &["server", "api-key", "create", "--help"],
    ] {
        let run = cli
            .run_with_env(args, &[("FLEET_DATABASE_URL", url)])
            .success();
        assert!(run.stdout.contains("--database-url <URL>"), "{run:#?}");
        assert!(run.stdout.contains("FLEET_DATABASE_URL"), "{run:#?}");
        assert!(!run.stdout.contains("s3cret"), "{run:#?}");
    }
}

#[test]
fn an_unreachable_database_exits_8_with_a_hint_and_no_password() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let url = format!("postgres://fleet:s3cret@127.0.0.1:{port}/fleet");
    let run = cli
        .run(&[
            "server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
            "--database-url",
            &url,
        ])
        .failure(8);
    assert!(
        run.stderr.starts_with(&format!(
            "error: could not open the PostgreSQL database postgres://fleet:***@127.0.0.1:{port}/fleet"
        )),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("hint: is PostgreSQL running"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("s3cret"), "{run:#?}");
    let config = cli.config_file("config.toml");
    assert!(
        !config.exists(),
        "no profile was saved for a service that never started"
    );

    let run = cli
        .run(&[
            "server",
            "api-key",
            "create",
            "--role",
            "admin",
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
            "--database-url",
            &url,
        ])
        .failure(8);
    assert!(!run.stderr.contains("s3cret"), "{run:#?}");
}

#[test]
fn on_postgres_the_first_start_bootstraps_and_the_startup_line_names_the_database() {
    let Some(base) = postgres_url("the PostgreSQL bootstrap test") else {
        return;
    };
    let schema = Schema::create(&base, "boot");
    let url = schema.url();
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");
    let data_arg = data.path().to_str().expect("utf-8");
    let first = start_with(
        &cli,
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_arg,
            "--database-url",
            &url,
        ],
    );
    let startup = first.startup.join("\n");
    assert!(startup.contains("profile `local`"), "{startup}");
    let redacted = fleet::server::redact_database_url(&url);
    assert!(
        startup.contains(&format!("database {redacted}")),
        "{startup}"
    );
    if let Ok(parsed) = reqwest::Url::parse(&url) {
        if let Some(password) = parsed.password() {
            assert!(!startup.contains(&format!(":{password}@")), "{startup}");
        }
    }
    cli.run(&["product", "create", "on-postgres"]).success();
    let (status, _) = terminate(first);
    assert!(status.success(), "{status:?}");
    assert!(
        !data.path().join("fleet.db").exists(),
        "no SQLite database beside PostgreSQL"
    );

    // A restart on the same database creates nothing new, and the key saved at the first
    // start still works.
    let second = start_with(
        &cli,
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_arg,
            "--database-url",
            &url,
        ],
    );
    assert!(
        !second.startup.join("\n").contains("created organization"),
        "{:?}",
        second.startup
    );
    let listed = cli
        .run_with_env(
            &["product", "list", "-o", "id"],
            &[("FLEET_API_URL", &second.url)],
        )
        .success();
    assert_eq!(listed.lines().len(), 1, "{listed:#?}");

    // Offline recovery on PostgreSQL: a key made straight in the database works at once.
    let created = cli
        .run(&[
            "server",
            "api-key",
            "create",
            "--role",
            "read",
            "--name",
            "rescue",
            "--database-url",
            &url,
        ])
        .success();
    let key = created.stdout.trim().to_owned();
    assert!(key.starts_with("fleet_"), "{created:#?}");
    cli.run_with_env(
        &["product", "list", "-o", "id"],
        &[("FLEET_API_URL", &second.url), ("FLEET_API_KEY", &key)],
    )
    .success();
    let (status, _) = terminate(second);
    assert!(status.success(), "{status:?}");
}

#[test]
fn on_postgres_a_wrong_password_exits_4() {
    let Some(base) = postgres_url("the PostgreSQL wrong-password test") else {
        return;
    };
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let url = with_password(&base, "not-the-password");
    let run = cli
        .run(&[
            "server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
            "--database-url",
            &url,
        ])
        .failure(4);
    assert!(
        run.stderr
            .contains("hint: check the user name and password"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("not-the-password"), "{run:#?}");
}
