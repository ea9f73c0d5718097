//! `fleet cohort update`.

use clap::Args;

use crate::api::UpdateCohort;
use crate::context::Context;
use crate::error::{Error, Result};

/// Rename a cohort or change its description
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet cohort update beta --product indoor-sensor --name early-access"
)]
pub struct UpdateArgs {
    /// Cohort name or ID
    pub cohort: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// New name
    #[arg(long)]
    pub name: Option<String>,

    /// New description
    #[arg(long, short = 'd')]
    pub description: Option<String>,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<()> {
    let body = UpdateCohort {
        name: args.name,
        description: args.description,
    };
    if body.name.is_none() && body.description.is_none() {
        return Err(Error::usage("nothing to update").hint("pass --name or --description"));
    }
    let cohort = ctx
        .client()?
        .cohorts()
        .update(&args.product, &args.cohort, &body)
        .await?;
    ctx.printer.show(&cohort)?;
    ctx.printer.status(&format!(
        "updated cohort `{}` in product `{}` ({})",
        cohort.name, cohort.product, cohort.id
    ));
    Ok(())
}
