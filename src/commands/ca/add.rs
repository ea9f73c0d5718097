//! `fleet ca add`.

use std::path::PathBuf;

use clap::Args;

use crate::api::{CreateCa, JitpSettings};
use crate::context::Context;
use crate::error::Result;

/// Register a CA certificate for a product's devices: device certificates it issues are
/// accepted for that product (and, with --jitp, provision unknown devices on first contact)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet ca add factory --product sensor --cert ca.pem
  fleet ca add factory -P sensor --cert ca.pem --jitp --jitp-cohort beta

The certificate must be one CA certificate (basic constraints CA:TRUE, allowed to sign certificates), not expired, and not registered in any product yet. Make one for development with `fleet ca generate NAME --out DIR`.")]
pub struct AddArgs {
    /// Name, unique in the product: lowercase letters, digits, `-`, `_`, `.`
    pub name: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// The CA certificate (PEM file)
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,

    /// Register it disabled: it admits no device until `fleet ca update --enable`
    #[arg(long)]
    pub disabled: bool,

    /// Provision unknown devices with a certificate under this CA just in time
    #[arg(long, help_heading = "Just-in-time provisioning")]
    pub jitp: bool,

    /// Cohort (of the same product) new devices join
    #[arg(
        long,
        value_name = "COHORT",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_cohort: Option<String>,

    /// A `key:value` tag new devices get (repeatable)
    #[arg(
        long = "jitp-tag",
        value_name = "KEY:VALUE",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_tags: Vec<String>,

    /// Hardware target triple new devices get
    #[arg(
        long,
        value_name = "TARGET",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_target: Option<String>,

    /// Description new devices get
    #[arg(long, value_name = "TEXT", help_heading = "Just-in-time provisioning")]
    pub jitp_description: Option<String>,
}

pub async fn run(ctx: &Context, args: AddArgs) -> Result<()> {
    let certificate = super::read_pem(&args.cert)?;
    let body = CreateCa {
        name: args.name,
        certificate,
        enabled: Some(!args.disabled),
        jitp: Some(JitpSettings {
            enabled: args.jitp,
            cohort: args.jitp_cohort,
            tags: args.jitp_tags,
            target: args.jitp_target,
            description: args.jitp_description,
        }),
    };
    let ca = ctx.client()?.cas().create(&args.product, &body).await?;
    ctx.printer.show(&ca)?;
    ctx.printer.status(&format!(
        "registered certificate authority `{}` in product `{}` ({}, fingerprint {})",
        ca.name, ca.product, ca.id, ca.fingerprint
    ));
    Ok(())
}
