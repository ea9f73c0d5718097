//! `fleet device create`.

use clap::Args;

use crate::api::CreateDevice;
use crate::context::Context;
use crate::error::Result;

/// Register a device in a product
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet device create sn-0042 --product indoor-sensor --cohort beta --tag site:berlin --target aarch64-unknown-linux-gnu"
)]
pub struct CreateArgs {
    /// Identifier (e.g. serial number), unique in the organization
    pub identifier: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// Cohort of that product (name or ID)
    #[arg(long, short = 'c')]
    pub cohort: Option<String>,

    /// A `key:value` tag (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    /// Hardware target triple, e.g. aarch64-unknown-linux-gnu
    #[arg(long)]
    pub target: Option<String>,

    /// Free text for people
    #[arg(long, short = 'd')]
    pub description: Option<String>,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateDevice {
        identifier: args.identifier,
        product: args.product,
        cohort: args.cohort,
        description: args.description,
        tags: args.tags,
        target: args.target,
    };
    let device = ctx.client()?.devices().create(&body).await?;
    ctx.printer.show(&device)?;
    ctx.printer.status(&format!(
        "created device `{}` in product `{}` ({})",
        device.identifier, device.product, device.id
    ));
    Ok(())
}
