//! `fleet device create`.

use clap::Args;

use crate::api::CreateDevice;
use crate::commands::if_not_exists::{self, Field};
use crate::context::Context;
use crate::error::Result;

/// Register a device in a product
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet device create sn-0042 --product indoor-sensor --cohort beta \\\n    --tag site:berlin --target aarch64-unknown-linux-gnu"
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

    /// If the device exists with the same product, cohort, tags, target and description (a
    /// flag not given means none), print it and exit 0; if any differ, exit 7 naming them
    #[arg(long)]
    pub if_not_exists: bool,
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
    let devices = ctx.client()?.devices();
    let device = match devices.create(&body).await {
        Ok(device) => device,
        Err(err) if args.if_not_exists && if_not_exists::is_conflict(&err) => {
            let device = if_not_exists::existing(err, devices.get(&body.identifier)).await?;
            let cohort = device
                .cohort_id
                .as_ref()
                .map(|id| (device.cohort.as_deref().unwrap_or_default(), id.as_str()));
            if_not_exists::check(
                &format!("device `{}`", device.identifier),
                &format!("fleet device show {}", device.identifier),
                vec![
                    Field::reference(
                        "product",
                        Some((&device.product, device.product_id.as_str())),
                        Some(&body.product),
                    ),
                    Field::reference("cohort", cohort, body.cohort.as_deref()),
                    Field::tags(&device.tags, &body.tags),
                    Field::optional("target", device.target.as_deref(), body.target.as_deref()),
                    Field::text(
                        "description",
                        &device.description,
                        body.description.as_deref(),
                    ),
                ],
            )?;
            ctx.printer.show(&device)?;
            ctx.printer.status(&format!(
                "device `{}` already exists in product `{}` ({}); nothing changed",
                device.identifier, device.product, device.id
            ));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    ctx.printer.show(&device)?;
    ctx.printer.status(&format!(
        "created device `{}` in product `{}` ({})",
        device.identifier, device.product, device.id
    ));
    Ok(())
}
