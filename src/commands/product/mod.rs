//! `fleet product …` (skeleton: filled in by the CLI work).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Placeholder
    List,
}
