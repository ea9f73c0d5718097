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
    // Read before deleting so scripts get the deleted object (as `api-key revoke` gives the
    // revoked key); deleting by the ID read makes the object shown the one deleted.
    let cohorts = ctx.client()?.cohorts();
    let cohort = cohorts.get(&args.product, &args.cohort).await?;
    cohorts
        .delete(cohort.product_id.as_str(), cohort.id.as_str())
        .await?;
    ctx.printer.status(&format!(
        "deleted cohort `{}` of product `{}` ({})",
        cohort.name, cohort.product, cohort.id
    ));
    ctx.printer.show(&cohort)
}
