//! `fleet device …`: devices, each in exactly one product.

mod cert;
mod create;
mod delete;
mod import;
mod import_chunks;
mod import_csv;
mod import_report;
mod list;
mod move_devices;
mod show;
mod update;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device in a product
    Create(create::CreateArgs),
    /// List devices, filtered by product, cohort, tags, target, quarantine, or what their
    /// check-ins said (online, seen within, running, update state)
    List(list::ListArgs),
    /// Show one device: its settings, when it last checked in, what it runs, its update state
    Show(show::ShowArgs),
    /// Change a device's cohort, tags, target, quarantine or description
    Update(update::UpdateArgs),
    /// Delete a device
    Delete(delete::DeleteArgs),
    /// Move devices to another product (they must be re-provisioned)
    Move(move_devices::MoveArgs),
    /// Import devices from a CSV file
    Import(import::ImportArgs),
    /// Register, list, revoke and issue device certificates
    #[command(subcommand)]
    Cert(cert::CertCommand),
}

pub async fn run(ctx: &Context, command: DeviceCommand) -> Result<()> {
    match command {
        DeviceCommand::Create(args) => create::run(ctx, args).await,
        DeviceCommand::List(args) => list::run(ctx, args).await,
        DeviceCommand::Show(args) => show::run(ctx, args).await,
        DeviceCommand::Update(args) => update::run(ctx, args).await,
        DeviceCommand::Delete(args) => delete::run(ctx, args).await,
        DeviceCommand::Move(args) => move_devices::run(ctx, args).await,
        DeviceCommand::Import(args) => import::run(ctx, args).await,
        DeviceCommand::Cert(command) => cert::run(ctx, command).await,
    }
}
