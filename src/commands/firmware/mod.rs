//! `fleet firmware …`: push, list, show, pull and abandon binaries; the product firmware policy.

mod abandon;
mod list;
pub(crate) mod local;
mod policy;
mod preflight;
mod pull;
mod push;
mod show;
mod steps;
mod test_hooks;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum FirmwareCommand {
    /// Upload a firmware file (resumable, verified), optionally sign and release it
    Push(push::PushArgs),
    /// List binaries
    List(list::ListArgs),
    /// Show one binary
    Show(show::ShowArgs),
    /// Download a ready binary to a file, verifying its SHA-256
    Pull(pull::PullArgs),
    /// Show or change a product's firmware policy (signed firmware required?)
    Policy(policy::PolicyArgs),
    /// Give up an unfinished upload: delete the binary and the parts it received
    Abandon(abandon::AbandonArgs),
}

pub async fn run(ctx: &Context, command: FirmwareCommand) -> Result<()> {
    match command {
        FirmwareCommand::Push(args) => push::run(ctx, args).await,
        FirmwareCommand::List(args) => list::run(ctx, args).await,
        FirmwareCommand::Show(args) => show::run(ctx, args).await,
        FirmwareCommand::Pull(args) => pull::run(ctx, args).await,
        FirmwareCommand::Policy(args) => policy::run(ctx, args).await,
        FirmwareCommand::Abandon(args) => abandon::run(ctx, args).await,
    }
}
