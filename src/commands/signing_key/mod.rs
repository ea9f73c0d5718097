//! `fleet signing-key …`: Ed25519 keys that sign firmware. The service keeps public keys only.

mod delete;
mod generate;
mod list;
mod register;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Make a new key pair: private key to a file (0600), public key registered
    Generate(generate::GenerateArgs),
    /// Register an existing public key (or the public half of a private key file)
    Register(register::RegisterArgs),
    /// List registered keys
    List(list::ListArgs),
    /// Delete a registered key (its signatures go too)
    Delete(delete::DeleteArgs),
}

pub async fn run(ctx: &Context, command: SigningKeyCommand) -> Result<()> {
    match command {
        SigningKeyCommand::Generate(args) => generate::run(ctx, args).await,
        SigningKeyCommand::Register(args) => register::run(ctx, args).await,
        SigningKeyCommand::List(args) => list::run(ctx, args).await,
        SigningKeyCommand::Delete(args) => delete::run(ctx, args).await,
    }
}
