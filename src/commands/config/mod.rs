//! `fleet config …`: a product's configuration, its cohorts' and devices' overrides, their
//! revisions, and the product's JSON Schema.

mod apply;
mod diff;
mod edit;
mod history;
mod override_devices;
mod rollback;
mod schema;
mod set;
mod show;
mod unset;

use clap::{Args, Subcommand};

use crate::client::ConfigTarget;
use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show a configuration document (or with --effective, what devices get)
    Show(show::ShowArgs),
    /// Set keys by dotted path (values are JSON, else text)
    Set(set::SetArgs),
    /// Remove keys by dotted path (an override then inherits them again)
    Unset(unset::UnsetArgs),
    /// Replace a whole document from a JSON file or stdin
    Apply(apply::ApplyArgs),
    /// Edit a document in $EDITOR, checked before it is sent
    Edit(edit::EditArgs),
    /// List a document's revisions, newest first
    History(history::HistoryArgs),
    /// Show what changed between two revisions
    Diff(diff::DiffArgs),
    /// Set or remove keys in many devices' overrides at once (a bulk operation)
    Override(override_devices::OverrideArgs),
    /// Make an earlier revision's document current again, as a new revision
    Rollback(rollback::RollbackArgs),
    /// Show, set or remove the product's JSON Schema
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
}

pub async fn run(ctx: &Context, command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Show(args) => show::run(ctx, args).await,
        ConfigCommand::Set(args) => set::run(ctx, args).await,
        ConfigCommand::Unset(args) => unset::run(ctx, args).await,
        ConfigCommand::Apply(args) => apply::run(ctx, args).await,
        ConfigCommand::Edit(args) => edit::run(ctx, args).await,
        ConfigCommand::History(args) => history::run(ctx, args).await,
        ConfigCommand::Diff(args) => diff::run(ctx, args).await,
        ConfigCommand::Override(args) => override_devices::run(ctx, args).await,
        ConfigCommand::Rollback(args) => rollback::run(ctx, args).await,
        ConfigCommand::Schema(command) => schema::run(ctx, command).await,
    }
}

/// Which document a command works on: the product's, a cohort's or a device's override.
#[derive(Debug, Args)]
pub struct LevelArgs {
    /// Product name or ID
    #[arg(long, short = 'P', required_unless_present = "device")]
    pub product: Option<String>,

    /// A cohort's override (name or ID) instead of the product's document
    #[arg(long, requires = "product", conflicts_with = "device")]
    pub cohort: Option<String>,

    /// A device's override (identifier or ID) instead of the product's document
    #[arg(long)]
    pub device: Option<String>,
}

impl LevelArgs {
    pub fn target(&self) -> Result<ConfigTarget<'_>> {
        match (&self.product, &self.cohort, &self.device) {
            (_, _, Some(device)) => Ok(ConfigTarget::Device(device)),
            (Some(product), Some(cohort), None) => Ok(ConfigTarget::Cohort { product, cohort }),
            (Some(product), None, None) => Ok(ConfigTarget::Product(product)),
            (None, _, None) => Err(Error::usage("name the product").hint("pass -P PRODUCT")),
        }
    }
}

/// The message a change is recorded with.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// Why, kept with the revision (shown by `fleet config history`)
    #[arg(long, short = 'm', value_name = "MESSAGE")]
    pub message: Option<String>,
}
