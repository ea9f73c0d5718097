//! `fleet cohort assign`.

use clap::Args;

use crate::api::{AssignCohort, BulkListing, BulkResult};
use crate::client::ApiClient;
use crate::commands::bulk::selection::SelectionArgs;
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::Result;

/// Put devices into a cohort, all or none. Every selected device must be in the cohort's
/// product; filters select among that product's devices. Devices already in the cohort are
/// left alone.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet cohort assign beta --product indoor-sensor --tag site:berlin
  fleet cohort assign beta --product indoor-sensor sn-0001 sn-0002 --yes
  fleet device list --product indoor-sensor -o ndjson \\
    | jq -c 'select(.target == \"armv7\")' \\
    | fleet cohort assign beta --product indoor-sensor --from-file - --yes")]
pub struct AssignArgs {
    /// Cohort to put the devices in (name or ID)
    #[arg(value_name = "COHORT")]
    pub cohort_name: String,

    /// The cohort's product (name or ID)
    #[arg(long, short = 'P')]
    pub product: String,

    /// Show what would happen and change nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

struct Assign {
    body: AssignCohort,
    /// The cohort's and product's names, for messages (the user may have given IDs).
    cohort_name: String,
    product_name: String,
}

impl Operation for Assign {
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult> {
        let body = AssignCohort {
            dry_run,
            list,
            ..self.body.clone()
        };
        client.bulk().assign(&body).await
    }

    fn action(&self, count: u64) -> String {
        format!(
            "assign {} to cohort `{}` of product `{}`",
            devices(count),
            self.cohort_name,
            self.product_name
        )
    }

    fn done(&self, result: &BulkResult) -> String {
        let mut line = format!(
            "assigned {} to cohort `{}`",
            devices(result.changed),
            result
                .devices
                .iter()
                .find_map(|d| d.cohort.as_deref())
                .unwrap_or(&self.cohort_name)
        );
        if result.unchanged > 0 {
            line.push_str(&format!(" ({} already in it)", devices(result.unchanged)));
        }
        line
    }
}

pub async fn run(ctx: &Context, args: AssignArgs) -> Result<()> {
    let product_name = bulk::product_name(ctx, &args.product).await;
    let cohort_name = bulk::cohort_name(ctx, &args.product, &args.cohort_name).await;
    let op = Assign {
        cohort_name,
        product_name,
        body: AssignCohort {
            selection: args.selection.into_selection(None)?,
            product: args.product,
            cohort: args.cohort_name,
            dry_run: false,
            list: BulkListing::default(),
        },
    };
    bulk::execute(ctx, &op, args.dry_run).await
}
