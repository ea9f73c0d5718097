//! Global options are described once, under `fleet --help`; subcommands point there in one
//! line, still accept them, and env hints carry no stray `=`.

use crate::common::cli::Cli;

#[test]
fn global_options_are_described_once_and_pointed_to() {
    let cli = Cli::new();
    let root = cli.run(&["--help"]).success();
    assert!(root.stdout.contains("--config-dir <DIR>"), "{root:#?}");
    assert!(root.stdout.contains("[env: FLEET_PROFILE]"), "{root:#?}");
    assert!(!root.stdout.contains("FLEET_PROFILE="), "{root:#?}");
    for args in [
        &["device", "list", "--help"][..],
        &["device", "list", "-h"],
        &["help", "product", "create"],
        &["whoami", "--help"],
    ] {
        let run = cli.run(args).success();
        assert!(
            !run.stdout.contains("--config-dir <DIR>"),
            "{args:?}: {run:#?}"
        );
        assert!(!run.stdout.contains("[env: FLEET_"), "{args:?}: {run:#?}");
        let words = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("--no-input, --config-dir): see `fleet --help`"),
            "{args:?}: {run:#?}"
        );
        assert!(run.lines().len() < 45, "{args:?} is short: {run:#?}");
    }
}

#[test]
fn subcommands_still_take_global_options_and_their_variables() {
    let cli = Cli::new();
    let run = cli.run(&["profile", "list", "-o", "json", "--config-dir", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json(), serde_json::json!([]));
    let run = cli.run_with_env(&["profile", "list"], &[("FLEET_OUTPUT", "json")]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json(), serde_json::json!([]));
}
