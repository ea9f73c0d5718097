//! `fleet cohort create`.

use clap::Args;

use crate::api::CreateCohort;
use crate::commands::if_not_exists::{self, Field};
use crate::context::Context;
use crate::error::Result;

/// Create a cohort in a product
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet cohort create beta --product indoor-sensor \\\n    --description \"Early adopters\""
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

    /// If the cohort exists in the product with the same description (not given means empty),
    /// print it and exit 0; if it differs, exit 7 naming the field
    #[arg(long)]
    pub if_not_exists: bool,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateCohort {
        name: args.name,
        description: args.description,
    };
    let cohorts = ctx.client()?.cohorts();
    let cohort = match cohorts.create(&args.product, &body).await {
        Ok(cohort) => cohort,
        Err(err) if args.if_not_exists && if_not_exists::is_conflict(&err) => {
            let cohort =
                if_not_exists::existing(err, cohorts.get(&args.product, &body.name)).await?;
            if_not_exists::check(
                &format!("cohort `{}` in product `{}`", cohort.name, cohort.product),
                &format!(
                    "fleet cohort show {} --product {}",
                    cohort.name, cohort.product
                ),
                vec![Field::text(
                    "description",
                    &cohort.description,
                    body.description.as_deref(),
                )],
            )?;
            ctx.printer.show(&cohort)?;
            ctx.printer.status(&format!(
                "cohort `{}` already exists in product `{}` ({}); nothing changed",
                cohort.name, cohort.product, cohort.id
            ));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    ctx.printer.show(&cohort)?;
    ctx.printer.status(&format!(
        "created cohort `{}` in product `{}` ({})",
        cohort.name, cohort.product, cohort.id
    ));
    Ok(())
}
