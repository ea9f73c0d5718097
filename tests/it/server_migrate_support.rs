//! A populated SQLite deployment built through the real `fleet server` and CLI, what the CLI
//! lists of it, and fresh PostgreSQL schemas for the `fleet server migrate` and
//! `--database-url` tests.

use std::io::Write as _;

use serde_json::Value;

use crate::cli_server::{self, Running};
use crate::common::backend::DATABASE_URL_VAR;
use crate::common::cli::Cli;

/// A stopped SQLite deployment whose admin key is the `local` profile of `cli`.
pub struct Deployment {
    pub cli: Cli,
    pub data: tempfile::TempDir,
    /// The firmware pushed to product `indoor`, artifact `app`, version 1.0.0, target `arm`.
    pub firmware: Vec<u8>,
    /// What the CLI listed while it was running.
    pub lists: Vec<(String, Value)>,
}

/// Starts `fleet server` on a new data dir, fills it through the CLI (products, an archived
/// one, a cohort, devices with tags, targets and a quarantine, a scoped API key, firmware with
/// blobs and a release, and the audit events of all that), lists it, and stops it.
pub fn populated_deployment() -> Deployment {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("data dir");
    let running = cli_server::start(&cli, data.path(), &[]);
    let ok = |args: &[&str]| {
        cli.run(args).success();
    };
    ok(&[
        "product",
        "create",
        "indoor",
        "--description",
        "Indoor sensor",
        "--tag",
        "line:a",
    ]);
    ok(&["product", "create", "gateway"]);
    ok(&["product", "archive", "gateway", "--yes"]);
    ok(&["cohort", "create", "beta", "--product", "indoor"]);
    ok(&[
        "device",
        "create",
        "sn-1",
        "--product",
        "indoor",
        "--cohort",
        "beta",
        "--tag",
        "site:berlin",
        "--target",
        "arm",
    ]);
    ok(&[
        "device",
        "create",
        "sn-2",
        "--product",
        "indoor",
        "--description",
        "spare",
    ]);
    ok(&["device", "update", "sn-2", "--quarantine"]);
    ok(&[
        "api-key",
        "create",
        "ci",
        "--role",
        "write",
        "--product",
        "indoor",
    ]);
    let firmware: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let file = data.path().join("app.img");
    std::fs::write(&file, &firmware).expect("write the firmware file");
    let file = file.to_str().expect("utf-8 path");
    ok(&[
        "firmware",
        "push",
        file,
        "--product",
        "indoor",
        "--artifact",
        "app",
        "--version",
        "1.0.0",
        "--target",
        "arm",
        "--release-to",
        "beta",
        "--rollout",
        "25",
    ]);
    ok(&[
        "firmware",
        "push",
        file,
        "--product",
        "indoor",
        "--artifact",
        "app",
        "--version",
        "1.0.0",
        "--target",
        "x86",
    ]);
    std::fs::remove_file(file).expect("remove the firmware file");
    let lists = lists(&cli, &running);
    let (status, _) = cli_server::terminate(running);
    assert!(status.success(), "{status:?}");
    Deployment {
        cli,
        data,
        firmware,
        lists,
    }
}

/// Everything the CLI lists of the deployment at `running`, as JSON, with the one field a
/// request itself changes (an API key's `last_used_at`) left out.
pub fn lists(cli: &Cli, running: &Running) -> Vec<(String, Value)> {
    let commands: &[&[&str]] = &[
        &["product", "list"],
        &["cohort", "list", "--product", "indoor"],
        &["device", "list"],
        &["device", "show", "sn-1"],
        &["api-key", "list"],
        &["event", "list"],
        &["firmware", "list", "--product", "indoor"],
        &["bundle", "list", "--product", "indoor"],
        &["release", "list", "--product", "indoor"],
        // Its counts come from summaries the target's triggers rebuild as rows are copied.
        &["product", "stats", "indoor"],
    ];
    commands
        .iter()
        .map(|command| {
            let mut args = command.to_vec();
            args.extend(["-o", "json"]);
            let run = cli
                .run_with_env(&args, &[("FLEET_API_URL", &running.url)])
                .success();
            let mut value = run.json();
            if command[0] == "api-key" {
                for key in value.as_array_mut().expect("a list") {
                    key.as_object_mut()
                        .expect("an object")
                        .remove("last_used_at");
                }
            }
            if command[1] == "stats" {
                // The figures, not the moment they were taken at.
                let stats = value.as_object_mut().expect("an object");
                stats.remove("generated_at");
                stats.remove("connection");
            }
            (command.join(" "), value)
        })
        .collect()
}

/// Asserts the deployment at `running` shows the CLI what `before` listed, serves the same
/// firmware bytes, and takes the old admin key (the `local` profile).
pub fn assert_same_deployment(deployment: &Deployment, running: &Running) {
    let after = lists(&deployment.cli, running);
    for ((command, before), (_, after)) in deployment.lists.iter().zip(&after) {
        assert_eq!(
            before, after,
            "`fleet {command}` differs after the migration"
        );
    }
    assert_eq!(deployment.lists.len(), after.len());
    let out = deployment.data.path().join("pulled.img");
    deployment
        .cli
        .run_with_env(
            &[
                "firmware",
                "pull",
                "--product",
                "indoor",
                "--artifact",
                "app",
                "--version",
                "1.0.0",
                "--target",
                "arm",
                "--out",
                out.to_str().expect("utf-8"),
            ],
            &[("FLEET_API_URL", &running.url)],
        )
        .success();
    let pulled = std::fs::read(&out).expect("read the pulled firmware");
    assert!(pulled == deployment.firmware, "the pulled firmware differs");
}

/// Checks the `-o json` report of a migration: every table and blob compared equal.
pub fn assert_clean_report(report: &Value) {
    assert_eq!(report["problems"], serde_json::json!([]), "{report:#}");
    let tables = report["tables"].as_array().expect("tables");
    let table = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("no table `{name}` in {report:#}"))
    };
    for (name, rows) in [
        ("organizations", 1),
        ("products", 2),
        ("cohorts", 1),
        ("devices", 2),
        ("api_keys", 2),
        ("api_key_products", 1),
        ("binaries", 2),
        ("releases", 1),
    ] {
        assert_eq!(table(name)["source_rows"], rows, "{name}: {report:#}");
    }
    for table in tables {
        assert_eq!(table["source_rows"], table["target_rows"], "{table}");
        assert_eq!(table["content_matches"], true, "{table}");
    }
    assert!(
        table("events")["source_rows"].as_u64() >= Some(10),
        "{report:#}"
    );
    let blobs = &report["blobs"];
    assert_eq!(blobs["copied"], true, "{report:#}");
    assert_eq!(blobs["objects"], 2, "one part per binary: {report:#}");
    assert_eq!(blobs["verified"], blobs["objects"], "{report:#}");
    assert_eq!(blobs["bytes"], 600_000, "{report:#}");
}

/// The PostgreSQL server of this run, or `None` after saying on stderr that `what` was skipped.
pub fn postgres_url(what: &str) -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {what} needs PostgreSQL; set {DATABASE_URL_VAR}=postgres://… to run it"
            );
            None
        }
    }
}

/// A new, empty schema on the server of `base`, dropped again when this is dropped.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    pub fn create(base: &str, tag: &str) -> Schema {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("mig_{tag}_{}_{n}", std::process::id());
        execute(base, &format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
        execute(base, &format!("CREATE SCHEMA {name}"));
        Schema {
            base: base.to_owned(),
            name,
        }
    }

    /// The server's URL with this schema as the search path: what a user passes to use one.
    pub fn url(&self) -> String {
        with_search_path(&self.base, &self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        execute(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

/// `url` with `options=-csearch_path=<schema>` added to its query.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

/// `url` with its password replaced by `password`.
pub fn with_password(url: &str, password: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a URL");
    parsed.set_password(Some(password)).expect("set password");
    parsed.to_string()
}

fn execute(url: &str, sql: &str) {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("connect to the test PostgreSQL");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    });
}
