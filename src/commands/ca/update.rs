//! `fleet ca update`.

use clap::{Args, ValueEnum};

use crate::api::{UpdateCa, UpdateJitp};
use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// Enable or disable a certificate authority or change its JITP settings
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet ca update factory --product sensor --disable
  fleet ca update factory --product sensor --jitp on --jitp-cohort beta
  fleet ca update factory -P sensor --no-jitp-cohort --jitp-tag site:paris")]
pub struct UpdateArgs {
    /// Certificate authority name or ID
    pub ca: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// Admit devices with certificates under this CA again
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,

    /// Admit no device with a certificate under this CA
    #[arg(long)]
    pub disable: bool,

    /// Turn just-in-time provisioning on or off
    #[arg(long, value_enum, help_heading = "Just-in-time provisioning")]
    pub jitp: Option<OnOff>,

    /// Cohort (of the same product) new devices join
    #[arg(
        long,
        value_name = "COHORT",
        conflicts_with = "no_jitp_cohort",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_cohort: Option<String>,

    /// New devices join no cohort
    #[arg(long, help_heading = "Just-in-time provisioning")]
    pub no_jitp_cohort: bool,

    /// A `key:value` tag new devices get (repeatable; replaces the whole set)
    #[arg(
        long = "jitp-tag",
        value_name = "KEY:VALUE",
        conflicts_with = "no_jitp_tags",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_tags: Vec<String>,

    /// New devices get no tags
    #[arg(long, help_heading = "Just-in-time provisioning")]
    pub no_jitp_tags: bool,

    /// Hardware target triple new devices get
    #[arg(
        long,
        value_name = "TARGET",
        conflicts_with = "no_jitp_target",
        help_heading = "Just-in-time provisioning"
    )]
    pub jitp_target: Option<String>,

    /// New devices get no target
    #[arg(long, help_heading = "Just-in-time provisioning")]
    pub no_jitp_target: bool,

    /// Description new devices get
    #[arg(long, value_name = "TEXT", help_heading = "Just-in-time provisioning")]
    pub jitp_description: Option<String>,
}

/// `Some(None)` to clear, `Some(Some(v))` to set, `None` to leave alone.
fn set_or_clear(value: Option<String>, clear: bool) -> Option<Option<String>> {
    if clear { Some(None) } else { value.map(Some) }
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    let jitp = UpdateJitp {
        enabled: args.jitp.map(|j| j == OnOff::On),
        cohort: set_or_clear(args.jitp_cohort, args.no_jitp_cohort),
        tags: if args.no_jitp_tags {
            Some(Vec::new())
        } else if args.jitp_tags.is_empty() {
            None
        } else {
            Some(args.jitp_tags)
        },
        target: set_or_clear(args.jitp_target, args.no_jitp_target),
        description: args.jitp_description,
    };
    let enabled = match (args.enable, args.disable) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    if enabled.is_none() && jitp.is_empty() {
        return Err(Error::usage("nothing to update")
            .hint("pass --enable, --disable, --jitp on|off or a --jitp-… setting"));
    }
    let body = UpdateCa {
        enabled,
        jitp: (!jitp.is_empty()).then_some(jitp),
    };
    let ca = ctx
        .client()?
        .cas()
        .update(&args.product, &args.ca, &body)
        .await?;
    ctx.printer.show(&ca)?;
    ctx.printer.status(&format!(
        "updated certificate authority `{}` in product `{}` ({})",
        ca.name, ca.product, ca.id
    ));
    Ok(())
}
