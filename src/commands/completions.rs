//! `fleet completions <shell>` (skeleton).

use clap::Args;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell
    pub shell: clap_complete::Shell,
}
