//! `fleet device import`: every bad row reported with its line, nothing created on any error,
//! idempotent re-import, conflicts unless `--update`.

use std::path::{Path, PathBuf};

use crate::bulk_support::{devices, event_count, setup};
use crate::common::cli::Cli;

fn write_csv(cli: &Cli, name: &str, text: &str) -> PathBuf {
    let path = cli.config_dir().join(name);
    std::fs::write(&path, text).expect("write csv");
    path
}

fn import(cli: &Cli, path: &Path, extra: &[&str]) -> crate::common::cli::Run {
    let path = path.to_str().expect("utf-8 path");
    let mut argv = vec!["device", "import", path, "--product", "p1"];
    argv.extend_from_slice(extra);
    cli.run(&argv)
}

#[test]
fn all_bad_rows_are_reported_with_line_numbers_and_nothing_is_created() {
    let (server, cli) = setup(0);
    let csv = write_csv(
        &cli,
        "bad.csv",
        "identifier,tags,target,cohort\n\
         ok-1,site:x,armv7,\n\
         bad id,,,\n\
         ok-2,nocolon,,\n\
         ok-1,,,\n\
         ok-3,,,nope\n\
         ok-4,,arm/v7,\n",
    );
    let run = import(&cli, &csv, &["--yes"]).failure(7);
    for expected in [
        "5 of 6 rows are invalid",
        "\n  line 3: device identifier `bad id`",
        "\n  line 4: tag `nocolon`",
        "\n  line 5: identifier `ok-1` already appears on line 2",
        "\n  line 6: product `p1` has no cohort `nope`",
        "\n  line 7: target `arm/v7`",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?}: {run:#?}"
        );
    }
    assert!(devices(&server).is_empty(), "nothing created");
    import(&cli, &csv, &["--dry-run"]).failure(7);
}

/// Rows of the wrong shape, invalid values and identifiers in use come in one report, each
/// as `line N: …` in line order, never as the CSV library's own message; nothing is created.
#[test]
fn every_problem_of_a_file_is_reported_in_one_pass() {
    let (server, cli) = setup(0);
    cli.run(&[
        "device",
        "create",
        "taken",
        "--product",
        "p1",
        "--target",
        "armv7",
    ])
    .success();
    let before = devices(&server);
    let csv = write_csv(
        &cli,
        "mixed.csv",
        "identifier,target,cohort\n\
         ok-1,armv7\n\
         bad id,armv7,\n\
         taken,x86,\n\
         ok-2,armv7,nope\n\
         ok-3,armv7,\n\
         \"ok-4,armv7\n",
    );
    let run = import(&cli, &csv, &["--yes"]).failure(2);
    let report: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  line "))
        .collect();
    assert_eq!(report.len(), 5, "{run:#?}");
    for (got, expected) in report.iter().zip([
        "2: 2 cells where the header has 3",
        "3: device identifier `bad id`",
        "4: `taken`: a device with this identifier exists in `p1` with different values",
        "5: product `p1` has no cohort `nope`",
        "7: 1 cell where the header has 3",
    ]) {
        assert!(
            got.starts_with(expected),
            "{got:?} vs {expected:?}: {run:#?}"
        );
    }
    assert!(
        run.stderr.contains("5 of 6 rows cannot be imported"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("CSV error"), "{run:#?}");
    assert_eq!(devices(&server), before, "ok-3 not created either");

    // Only the shape is wrong and one identifier is taken: the dry run's conflict gets its line.
    let csv = write_csv(
        &cli,
        "shape.csv",
        "identifier,target\nok-1,armv7,extra\ntaken,x86\n",
    );
    let run = import(&cli, &csv, &["--yes"]).failure(2);
    assert!(
        run.stderr
            .contains("\n  line 2: 3 cells where the header has 2"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("\n  line 3: `taken`: "), "{run:#?}");
    assert_eq!(devices(&server), before);
}

#[test]
fn reimporting_the_same_file_skips_identical_devices() {
    let (server, cli) = setup(0);
    let csv = write_csv(
        &cli,
        "batch.csv",
        "identifier,description,tags,target,cohort\n\
         f-1,first,site:x;tier:1,armv7,a\n\
         f-2,,,,\n\
         \"f-3\",\"quoted, with comma\",,,\n",
    );
    let run = import(&cli, &csv, &["--yes", "-o", "id"]).success();
    assert!(
        run.stderr.contains("3 created, 0 updated, 0 unchanged"),
        "{run:#?}"
    );
    assert_eq!(run.lines().len(), 3);
    let shown = cli
        .run(&["device", "show", "f-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["cohort"], "a");
    assert_eq!(shown["tags"], serde_json::json!(["site:x", "tier:1"]));
    assert_eq!(shown["description"], "first");
    let f3 = cli
        .run(&["device", "show", "f-3", "-o", "json"])
        .success()
        .json();
    assert_eq!(f3["description"], "quoted, with comma");
    let after_first = devices(&server);

    let run = import(&cli, &csv, &["--yes"]).success();
    assert!(
        run.stderr.contains("0 created, 0 updated, 3 unchanged"),
        "{run:#?}"
    );
    let run = import(&cli, &csv, &[]).success();
    assert!(
        run.stderr.contains("already as requested"),
        "no prompt needed: {run:#?}"
    );
    assert_eq!(devices(&server), after_first, "revisions untouched");
    assert_eq!(event_count(&server, "device.created"), 3);
}

#[test]
fn different_values_conflict_unless_update() {
    let (server, cli) = setup(0);
    cli.run(&["device", "create", "gw-1", "--product", "p2"])
        .success();
    let first = write_csv(
        &cli,
        "first.csv",
        "identifier,target\nd-1,armv7\nd-2,armv7\n",
    );
    import(&cli, &first, &["--yes"]).success();
    let before = devices(&server);

    let changed = write_csv(
        &cli,
        "changed.csv",
        "identifier,target\nd-1,aarch64\nd-3,armv7\n",
    );
    let run = import(&cli, &changed, &["--yes"]).failure(7);
    assert!(run.stderr.contains("\n  line 2: `d-1`"), "{run:#?}");
    assert!(run.stderr.contains("--update"), "{run:#?}");
    assert_eq!(devices(&server), before, "d-3 not created either");

    let run = import(&cli, &changed, &["--update", "--yes"]).success();
    assert!(
        run.stderr.contains("1 created, 1 updated, 0 unchanged"),
        "{run:#?}"
    );
    let d1 = cli
        .run(&["device", "show", "d-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(d1["target"], "aarch64");
    assert_eq!(d1["revision"], 2);
    assert_eq!(event_count(&server, "device.updated"), 1);

    let elsewhere = write_csv(&cli, "elsewhere.csv", "identifier\ngw-1\n");
    let run = import(&cli, &elsewhere, &["--update", "--yes"]).failure(7);
    assert!(run.stderr.contains("is in product `p2`"), "{run:#?}");
}

#[test]
fn a_dry_run_validates_and_creates_nothing_and_bad_files_are_usage_errors() {
    let (server, cli) = setup(0);
    let csv = write_csv(&cli, "ok.csv", "identifier\nn-1\nn-2\n");
    let run = import(&cli, &csv, &["--dry-run"]).success();
    assert!(run.stderr.contains("would import 2 devices"), "{run:#?}");
    assert!(devices(&server).is_empty());
    import(&cli, &csv, &[]).failure(3);
    assert!(devices(&server).is_empty());

    let unknown = write_csv(&cli, "unknown.csv", "identifier,colour\nn-1,red\n");
    let run = import(&cli, &unknown, &["--yes"]).failure(2);
    assert!(run.stderr.contains("unknown column `colour`"), "{run:#?}");
    cli.run(&["product", "archive", "p1", "--yes"]).success();
    let run = import(&cli, &csv, &["--yes"]).failure(7);
    assert!(run.stderr.contains("archived"), "{run:#?}");
}
