//! The checked-in `completions/` and `man/` must match what the clap tree generates today.
//! Run with `FLEET_BLESS=1` to rewrite them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::{Generator, Shell};

/// File name → contents, as the generators produce them now.
fn completions() -> BTreeMap<String, Vec<u8>> {
    [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ]
    .into_iter()
    .map(|shell| {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut fleet::Cli::command(), "fleet", &mut script);
        (shell.file_name("fleet"), script)
    })
    .collect()
}

/// One man page per command: `fleet.1`, `fleet-product.1`, `fleet-product-create.1`, …
fn man_pages() -> BTreeMap<String, Vec<u8>> {
    fn walk(cmd: clap::Command, pages: &mut BTreeMap<String, Vec<u8>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            walk(sub, pages);
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page).expect("render man page");
        pages.insert(man.get_filename(), page);
    }
    let mut cmd = fleet::help::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = BTreeMap::new();
    walk(cmd, &mut pages);
    pages
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `dir` with `expected`; with `FLEET_BLESS=1` rewrites it instead. Returns what
/// differs.
fn check(dir: &Path, expected: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let bless = std::env::var_os("FLEET_BLESS").is_some_and(|v| v == "1");
    let existing: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut stale = Vec::new();
    for name in existing.iter().filter(|n| !expected.contains_key(*n)) {
        stale.push(format!(
            "{} (no longer generated)",
            dir.join(name).display()
        ));
        if bless {
            std::fs::remove_file(dir.join(name)).expect("remove stale file");
        }
    }
    for (name, contents) in expected {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_ref() != Some(contents) {
            stale.push(path.display().to_string());
            if bless {
                std::fs::create_dir_all(dir).expect("create dir");
                std::fs::write(&path, contents).expect("write generated file");
            }
        }
    }
    if bless { Vec::new() } else { stale }
}

#[test]
fn completions_are_up_to_date() {
    let stale = check(&root().join("completions"), &completions());
    assert!(
        stale.is_empty(),
        "stale completions (regenerate with `FLEET_BLESS=1 cargo test generated`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn man_pages_are_up_to_date() {
    let pages = man_pages();
    assert!(
        pages.contains_key("fleet-product-create.1"),
        "{:?}",
        pages.keys()
    );
    let stale = check(&root().join("man"), &pages);
    assert!(
        stale.is_empty(),
        "stale man pages (regenerate with `FLEET_BLESS=1 cargo test generated`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_clap_tree_is_consistent() {
    fleet::Cli::command().debug_assert();
    fleet::help::command().debug_assert();
}
