//! `fleet device show`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::output::DeviceView;

/// Show one device, with when it last checked in, from where, what it runs, its update state
/// and its newest update reports
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet device show sn-0042 -o json")]
pub struct ShowArgs {
    /// Device identifier or ID
    pub device: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let client = ctx.client()?;
    let device = client.devices().get(&args.device).await?;
    // By ID: the identifier could be renamed between the two requests, the ID cannot.
    let status = client.devices().status(device.id.as_str()).await?;
    ctx.printer.show(&DeviceView { device, status })
}
