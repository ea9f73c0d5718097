//! `fleet cohort create`.

use clap::Args;

use crate::api::CreateCohort;
use crate::context::Context;
use crate::error::Result;

/// Create a cohort in a product
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet cohort create beta --product indoor-sensor --description \"Early adopters\""
)]
pub struct CreateArgs {
    /// Name, unique in the product: lowercase letters, digits, `-`, `_`, `.`
    pub name: String,

    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,

    /// What the cohort is for
    #[arg(long, short = 'd')]
    pub description: Option<String>,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateCohort {
        name: args.name,
        description: args.description,
    };
    let cohort = ctx.client()?.cohorts().create(&args.product, &body).await?;
    ctx.printer.show(&cohort)?;
    ctx.printer.status(&format!(
        "created cohort `{}` in product `{}` ({})",
        cohort.name, cohort.product, cohort.id
    ));
    Ok(())
}
