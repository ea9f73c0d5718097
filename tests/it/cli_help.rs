//! `--help` of the root, every noun and the bulk commands, whole, at 80 columns (clap wraps
//! help to `COLUMNS` when no terminal is attached, so the width is fixed here).

use crate::common::cli::Cli;
use crate::common::snapshot;

/// The commands whose help is pinned: the root, each noun, and the bulk operations.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["product"],
    &["product", "create"],
    &["product", "list"],
    &["cohort"],
    &["cohort", "assign"],
    &["cohort", "unassign"],
    &["device"],
    &["device", "list"],
    &["device", "move"],
    &["device", "import"],
    &["device", "cert"],
    &["device", "cert", "issue"],
    &["ca"],
    &["ca", "add"],
    &["ca", "update"],
    &["api-key"],
    &["event"],
    &["firmware"],
    &["firmware", "push"],
    &["signing-key"],
    &["bundle"],
    &["release"],
    &["whoami"],
    &["profile"],
    &["completions"],
    &["server"],
];

#[test]
fn help_text_is_as_snapshotted() {
    let cli = Cli::new();
    let _filters = snapshot::settings().bind_to_scope();
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let run = cli.run_with_env(&args, &[("COLUMNS", "80")]).success();
        assert_eq!(run.stderr, "", "help goes to stdout: {run:#?}");
        let name = if command.is_empty() {
            "fleet".to_owned()
        } else {
            format!("fleet-{}", command.join("-"))
        };
        insta::assert_snapshot!(name, run.stdout);
    }
}
