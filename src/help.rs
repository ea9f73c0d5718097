//! The command tree as `fleet` parses and documents it (help and man pages): the derived tree
//! from `cli.rs`, with the global options described once, under `fleet --help`, and a one-line
//! pointer to them in every subcommand instead of the same sixty lines again.

use clap::{Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The tree for parsing, help and man pages. Completions use [`Cli::command`] itself, so global
/// options still complete after every subcommand.
pub fn command() -> Command {
    let root = without_env_values(Cli::command());
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .map(|arg| arg.clone().hide(true))
        .collect();
    let names: Vec<String> = globals
        .iter()
        .filter_map(|arg| {
            arg.get_short()
                .map(|short| format!("-{short}"))
                .or_else(|| arg.get_long().map(|long| format!("--{long}")))
        })
        .collect();
    let pointer = format!("Global options ({}): see `fleet --help`", names.join(", "));
    let mut root = root;
    for sub in root.get_subcommands_mut() {
        let taken = std::mem::take(sub);
        *sub = for_subcommand(taken, &globals, &pointer);
    }
    root
}

/// What `fleet --version` (or `-V`) prints, the same line clap prints for it.
pub const VERSION_LINE: &str = concat!("fleet ", env!("CARGO_PKG_VERSION"), "\n");

/// Whether the command line (program name first) is only `--version` or `-V`. `main` answers
/// that without [`command`]: building the whole command tree takes longer than the rest of
/// such a run, process start included.
pub fn asks_only_version(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.into_iter().skip(1);
    matches!(
        (args.next(), args.next()),
        (Some(flag), None) if flag == "--version" || flag == "-V"
    )
}

/// Parses the process's arguments with [`command`]; help, version and usage errors end the
/// process the way clap does.
///
/// A command line that parses is parsed with the derived tree alone, which clap builds only
/// along the subcommands used; [`command`] copies every global option into every subcommand
/// up front, which costs more than the rest of a short command. Its hidden copies parse as
/// clap's own propagation does, so only help, version and errors need it: those are parsed
/// again with it and rendered from it.
pub fn parse() -> Cli {
    if let Ok(mut matches) = Cli::command().try_get_matches()
        && let Ok(cli) = Cli::from_arg_matches_mut(&mut matches)
    {
        return cli;
    }
    let mut matches = command().get_matches();
    match Cli::from_arg_matches_mut(&mut matches) {
        Ok(cli) => cli,
        Err(err) => err.format(&mut command()).exit(),
    }
}

/// Shows `[env: FLEET_X]` rather than clap's `[env: FLEET_X=<current value>]`, which printed a
/// stray `=` when the variable is unset and the reader's own settings in help and man pages.
fn without_env_values(cmd: Command) -> Command {
    cmd.mut_args(|arg| {
        if arg.get_env().is_some() {
            arg.hide_env_values(true)
        } else {
            arg
        }
    })
}

/// Gives `cmd` hidden copies of the global options before clap builds the tree: clap copies
/// a global option into a subcommand only where the subcommand has none of that name, so these
/// copies parse exactly as the propagated ones would, and stay out of the help. Like clap, an
/// option of the subcommand's own (`profile add --api-url`) wins, for it and below it.
fn for_subcommand(cmd: Command, globals: &[clap::Arg], pointer: &str) -> Command {
    let globals: Vec<clap::Arg> = globals
        .iter()
        .filter(|global| {
            !cmd.get_arguments()
                .any(|own| own.get_id() == global.get_id())
        })
        .cloned()
        .collect();
    let mut cmd = without_env_values(cmd).args(globals.iter().cloned());
    let after = match cmd.get_after_help() {
        Some(existing) => format!("{pointer}\n\n{existing}"),
        None => pointer.to_owned(),
    };
    cmd = cmd.after_help(after);
    for sub in cmd.get_subcommands_mut() {
        let taken = std::mem::take(sub);
        *sub = for_subcommand(taken, &globals, pointer);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_shortcut_prints_what_clap_prints() {
        assert_eq!(VERSION_LINE, command().render_version());
        let line = |args: &[&str]| asks_only_version(args.iter().map(std::ffi::OsString::from));
        assert!(line(&["fleet", "--version"]));
        assert!(line(&["fleet", "-V"]));
        assert!(!line(&["fleet"]));
        assert!(!line(&["fleet", "--version", "extra"]));
        assert!(!line(&["fleet", "device", "--version"]));
        assert!(!line(&["fleet", "--versio"]));
    }

    /// Help is read on 80-column terminals, where clap wraps any wider line: an example broken
    /// across lines cannot be pasted, and hand-wrapped text comes out ragged. So every usage
    /// line, every indented line (examples) and every line of a hand-wrapped paragraph of every
    /// command's closing text fits in 80 columns; a paragraph written as one line is left to
    /// clap, which wraps it evenly.
    #[test]
    fn usage_and_examples_fit_80_columns() {
        fn walk(cmd: &mut Command, path: &str, wide: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_owned();
            let usage = cmd.render_usage().to_string();
            let after = cmd.get_after_help().map(ToString::to_string);
            let after: Vec<&str> = after.as_deref().unwrap_or("").lines().collect();
            let blank = |i: Option<usize>| {
                i.and_then(|i| after.get(i))
                    .is_none_or(|l| l.trim().is_empty())
            };
            let own_paragraph = |i: usize| {
                !after[i].starts_with(' ') && blank(i.checked_sub(1)) && blank(Some(i + 1))
            };
            let lines = usage.lines().map(|l| (l, false));
            let lines = lines.chain(
                after
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (*l, own_paragraph(i))),
            );
            for (line, own_paragraph) in lines {
                let width = line.chars().count();
                if width > 80 && !own_paragraph {
                    wide.push(format!("{path}: {width}: {line}"));
                }
            }
            for sub in cmd.get_subcommands_mut() {
                walk(sub, &path, wide);
            }
        }
        let mut root = command();
        root.build();
        let mut wide = Vec::new();
        walk(&mut root, "", &mut wide);
        assert!(
            wide.is_empty(),
            "{} lines wider than 80:\n{}",
            wide.len(),
            wide.join("\n")
        );
    }
}
