//! `fleet cohort unassign`.

use clap::Args;

use crate::api::{BulkListing, BulkResult, UnassignCohort};
use crate::client::ApiClient;
use crate::commands::bulk::selection::SelectionArgs;
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::Result;
use crate::output::wording::was_or_were;

/// Take devices out of their cohorts, all or none. Devices in no cohort are left alone.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet cohort unassign --product indoor-sensor --cohort beta --dry-run
  fleet cohort unassign sn-0001 sn-0002 --yes")]
pub struct UnassignArgs {
    /// Show what would happen and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Only devices of this product (name or ID)
    #[arg(long, short = 'P', help_heading = "Selecting devices")]
    pub product: Option<String>,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

struct Unassign {
    body: UnassignCohort,
}

impl Operation for Unassign {
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult> {
        let body = UnassignCohort {
            dry_run,
            list,
            ..self.body.clone()
        };
        client.bulk().unassign(&body).await
    }

    fn action(&self, count: u64) -> String {
        format!("take {}", out_of_cohorts(count))
    }

    fn done(&self, result: &BulkResult) -> String {
        let mut line = format!("took {}", out_of_cohorts(result.changed));
        if result.unchanged > 0 {
            line.push_str(&format!(
                " ({} {} in none)",
                devices(result.unchanged),
                was_or_were(result.unchanged)
            ));
        }
        line
    }
}

/// "1 device out of its cohort", "3 devices out of their cohorts".
fn out_of_cohorts(count: u64) -> String {
    if count == 1 {
        "1 device out of its cohort".to_owned()
    } else {
        format!("{} out of their cohorts", devices(count))
    }
}

pub async fn run(ctx: &Context, args: UnassignArgs) -> Result<()> {
    let op = Unassign {
        body: UnassignCohort {
            selection: args.selection.into_selection(args.product)?,
            dry_run: false,
            list: BulkListing::default(),
        },
    };
    bulk::execute(ctx, &op, args.dry_run).await
}
