//! `fleet firmware policy`.

use clap::Args;

use crate::api::FirmwarePolicy;
use crate::context::Context;
use crate::error::Result;

/// Show a product's firmware policy, or change it
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet firmware policy -P indoor-sensor\n  \
    fleet firmware policy -P indoor-sensor --require-signed true")]
pub struct PolicyArgs {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    /// Require every binary of a released bundle to be signed
    #[arg(long, value_name = "BOOL")]
    pub require_signed: Option<bool>,
}

pub async fn run(ctx: &Context, args: PolicyArgs) -> Result<()> {
    let fw = ctx.client()?.firmware();
    let policy = match args.require_signed {
        Some(required) => {
            let body = FirmwarePolicy {
                require_signed_firmware: required,
            };
            let policy = fw.set_policy(&args.product, &body).await?;
            ctx.printer.status(&format!(
                "updated the firmware policy of `{}`",
                policy.product
            ));
            policy
        }
        None => fw.policy(&args.product).await?,
    };
    ctx.printer.show(&policy)
}
