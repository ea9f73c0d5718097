//! Short flags a reader cannot confuse: no command reuses a short flag of the global options
//! (or `-h`/`-V`), and no command accepts two short flags that differ only in case (`-p` and
//! `-P`, `-o` and `-O`).

use clap::CommandFactory as _;

/// Every command below the root, with the path that reaches it.
fn walk(command: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
    for sub in command.get_subcommands() {
        let here = format!("{path} {}", sub.get_name());
        out.push((here.clone(), sub.clone()));
        walk(sub, &here, out);
    }
}

fn own_shorts(command: &clap::Command) -> Vec<(char, String)> {
    command
        .get_arguments()
        // clap's own `-h` and `-V` on every command are the allowed repeats.
        .filter(|arg| !arg.is_global_set() && !matches!(arg.get_id().as_str(), "help" | "version"))
        .filter_map(|arg| arg.get_short().map(|c| (c, arg.get_id().to_string())))
        .collect()
}

#[test]
fn no_command_reuses_or_case_pairs_a_global_short_flag() {
    let mut root = fleet::Cli::command();
    root.build();
    let mut global: Vec<char> = root
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .filter_map(clap::Arg::get_short)
        .collect();
    global.extend(['h', 'V']);
    let mut commands = Vec::new();
    walk(&root, "fleet", &mut commands);
    assert!(commands.len() > 50, "the walk reached the tree");
    let mut problems = Vec::new();
    for (path, command) in &commands {
        let own = own_shorts(command);
        let mut seen: Vec<char> = global.clone();
        for (short, id) in &own {
            if global.contains(short) {
                problems.push(format!("{path}: -{short} (--{id}) is a global short flag"));
            }
            seen.push(*short);
        }
        for (short, id) in &own {
            let other = if short.is_lowercase() {
                short.to_ascii_uppercase()
            } else {
                short.to_ascii_lowercase()
            };
            if other != *short && seen.contains(&other) {
                problems.push(format!(
                    "{path}: -{short} (--{id}) and -{other} differ in case only"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
