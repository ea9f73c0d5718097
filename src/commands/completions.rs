//! `fleet completions <shell>`: the completion script for a shell, generated from the clap tree
//! (the same output as the checked-in files in `completions/`).

use clap::Args;

use crate::error::Result;
use crate::output::Printer;

/// Print a shell completion script
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet completions bash > ~/.local/share/bash-completion/completions/fleet\n  fleet completions zsh > ~/.zfunc/_fleet\n  fleet completions fish > ~/.config/fish/completions/fleet.fish"
)]
pub struct CompletionsArgs {
    /// Shell to generate the script for
    pub shell: clap_complete::Shell,
}

/// Prints the script for `command`, the whole clap tree of `fleet`.
pub fn run(printer: &Printer, args: CompletionsArgs, mut command: clap::Command) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "fleet", &mut script);
    printer.raw(&script)
}
