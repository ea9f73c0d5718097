//! `fleet cohort delete`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::prompt;

/// Delete a cohort. Asks first; pass --yes without a terminal.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet cohort delete beta --product indoor-sensor --yes")]
pub struct DeleteArgs {
    /// Cohort name or ID
    pub cohort: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<()> {
    prompt::confirm(
        ctx,
        &format!(
            "delete cohort `{}` of product `{}`",
            args.cohort, args.product
        ),
    )?;
    ctx.client()?
        .cohorts()
        .delete(&args.product, &args.cohort)
        .await?;
    ctx.printer.status(&format!(
        "deleted cohort `{}` of product `{}`",
        args.cohort, args.product
    ));
    Ok(())
}
