//! `fleet device update`.

use clap::Args;

use crate::api::UpdateDevice;
use crate::context::Context;
use crate::error::{Error, Result};

/// Change a device's cohort, tags, target, quarantine or description
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet device update sn-0042 --cohort beta --add-tag site:berlin\n  fleet device update sn-0042 --quarantine"
)]
pub struct UpdateArgs {
    /// Device identifier or ID
    pub device: String,

    /// Move into this cohort of the device's product (name or ID)
    #[arg(long, short = 'c', conflicts_with = "no_cohort")]
    pub cohort: Option<String>,

    /// Take the device out of its cohort
    #[arg(long)]
    pub no_cohort: bool,

    /// Replace all tags with these `key:value` tags (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    /// Add a tag (repeatable)
    #[arg(long = "add-tag", value_name = "KEY:VALUE")]
    pub add_tags: Vec<String>,

    /// Remove a tag (repeatable)
    #[arg(long = "remove-tag", value_name = "KEY:VALUE")]
    pub remove_tags: Vec<String>,

    /// New hardware target triple
    #[arg(long)]
    pub target: Option<String>,

    /// Stop releases from reaching the device
    #[arg(long, conflicts_with = "unquarantine")]
    pub quarantine: bool,

    /// Let releases reach the device again
    #[arg(long)]
    pub unquarantine: bool,

    /// New description
    #[arg(long, short = 'd')]
    pub description: Option<String>,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    let cohort = match (args.cohort, args.no_cohort) {
        (_, true) => Some(None),
        (Some(cohort), false) => Some(Some(cohort)),
        (None, false) => None,
    };
    let quarantined = match (args.quarantine, args.unquarantine) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let body = UpdateDevice {
        description: args.description,
        cohort,
        tags: (!args.tags.is_empty()).then_some(args.tags),
        add_tags: args.add_tags,
        remove_tags: args.remove_tags,
        target: args.target.map(Some),
        quarantined,
    };
    let unchanged = body.description.is_none()
        && body.cohort.is_none()
        && body.tags.is_none()
        && body.add_tags.is_empty()
        && body.remove_tags.is_empty()
        && body.target.is_none()
        && body.quarantined.is_none();
    if unchanged {
        return Err(Error::usage("nothing to update")
            .hint("pass at least one of --cohort, --no-cohort, --tag, --add-tag, --remove-tag, --target, --quarantine, --unquarantine, --description"));
    }
    let device = ctx.client()?.devices().update(&args.device, &body).await?;
    ctx.printer.show(&device)?;
    ctx.printer.status(&format!(
        "updated device `{}` ({})",
        device.identifier, device.id
    ));
    Ok(())
}
