//! `fleet device cert revoke`.

use clap::Args;

use crate::api::RevokeDeviceCert;
use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Revoke a device's certificate: the device API refuses it from then on. Asks first; pass
/// --yes without a terminal.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet device cert revoke sn-0042 dcr_0190… --reason \"key leaked\" --yes"
)]
pub struct RevokeArgs {
    /// Device identifier or ID
    pub device: String,

    /// Certificate ID (`dcr_…`, see `fleet device cert list`)
    pub cert: String,

    /// Why, kept with the certificate
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub async fn run(ctx: &Context, args: RevokeArgs) -> Result<()> {
    prompt::confirm(
        ctx,
        &format!(
            "revoke certificate {} of device `{}`",
            args.cert, args.device
        ),
    )?;
    let body = RevokeDeviceCert {
        reason: args.reason,
    };
    let cert = ctx
        .client()?
        .device_certs()
        .revoke(&args.device, &args.cert, &body)
        .await?;
    ctx.printer.show(&cert)?;
    ctx.printer.status(&format!(
        "revoked certificate {} of device `{}`",
        cert.id, cert.device
    ));
    Ok(())
}
