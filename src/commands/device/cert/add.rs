//! `fleet device cert add`.

use std::path::PathBuf;

use clap::Args;

use crate::api::AddDeviceCert;
use crate::commands::ca::read_pem;
use crate::context::Context;
use crate::error::Result;

/// Register a certificate for a device: its subject CN must be the device's identifier and a
/// CA of the device's product must have issued it
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet device cert add sn-0042 --cert certs/sn-0042.pem")]
pub struct AddArgs {
    /// Device identifier or ID
    pub device: String,

    /// The device certificate (PEM file)
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
}

pub async fn run(ctx: &Context, args: AddArgs) -> Result<()> {
    let body = AddDeviceCert {
        certificate: read_pem(&args.cert)?,
    };
    let cert = ctx
        .client()?
        .device_certs()
        .add(&args.device, &body)
        .await?;
    ctx.printer.show(&cert)?;
    ctx.printer.status(&format!(
        "registered certificate {} for device `{}` (fingerprint {})",
        cert.id, cert.device, cert.fingerprint
    ));
    Ok(())
}
