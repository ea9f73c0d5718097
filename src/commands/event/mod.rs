//! `fleet event …`: the audit log.

mod list;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// List audit events, oldest first
    List(list::ListArgs),
}

pub async fn run(ctx: &Context, command: EventCommand) -> Result<()> {
    match command {
        EventCommand::List(args) => list::run(ctx, args).await,
    }
}
