//! `fleet device …` (skeleton: filled in by the CLI work).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Placeholder
    List,
}
