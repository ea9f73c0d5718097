//! `fleet config schema set|show|delete`: a product's JSON Schema.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::apply::parse_document;
use crate::api::config::PutConfigSchema;
use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Set the JSON Schema every effective configuration of the product must satisfy
    Set(SetArgs),
    /// Show the product's JSON Schema
    Show(ShowArgs),
    /// Remove the product's JSON Schema (any JSON object is accepted again)
    Delete(ShowArgs),
}

/// Set the JSON Schema every effective configuration of the product must satisfy
///
/// Refused, with every failing path listed, when a configuration of the product (the product's
/// own, a cohort's or a device's effective one) would not satisfy it. The schema may not refer
/// to anything outside itself.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet config schema set -P indoor-sensor --file schema.json")]
pub struct SetArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// A JSON Schema (an object); `-` reads stdin
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: PathBuf,
}

/// Show the product's JSON Schema
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet config schema show -P indoor-sensor")]
pub struct ShowArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, command: SchemaCommand) -> Result<()> {
    let configs = ctx.client()?.configs();
    match command {
        SchemaCommand::Show(args) => {
            let schema = configs.schema(&args.product).await?;
            ctx.printer.config_schema(&schema)
        }
        SchemaCommand::Delete(args) => {
            let schema = configs.delete_schema(&args.product).await?;
            ctx.printer.status(&format!(
                "removed the configuration schema of `{}`",
                schema.product
            ));
            Ok(())
        }
        SchemaCommand::Set(args) => {
            let text = if args.file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|err| Error::failure("could not read stdin").with_source(err))?;
                text
            } else {
                std::fs::read_to_string(&args.file)
                    .map_err(|err| crate::error::io_error("read", &args.file, err))?
            };
            let schema = parse_document(&text, &args.file.display().to_string())?;
            let set = configs
                .set_schema(&args.product, &PutConfigSchema { schema })
                .await?;
            ctx.printer.config_schema(&set)
        }
    }
}
