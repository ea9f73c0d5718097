//! `fleet device move`.

use clap::Args;

use crate::api::{BulkListing, BulkResult, MoveDevices};
use crate::client::ApiClient;
use crate::commands::bulk::selection::SelectionArgs;
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::Result;
use crate::output::wording::it_or_they;

/// Move devices to another product, all or none. Moved devices leave their cohort (or join
/// --to-cohort), lose their credentials and configuration override, and must be provisioned
/// again.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet device move sn-0001 sn-0002 --to-product gateway-v2
  fleet device move --product indoor-sensor --tag site:berlin \\
    --to-product gateway-v2 --dry-run
  fleet device list --product old -o ndjson \\
    | fleet device move --from-file - --to-product new --yes

Without a terminal, pass --yes. The move is refused as a whole (exit 7, nothing
changed) when the target product is archived, --to-cohort is not one of its
cohorts, or a named device does not exist.")]
pub struct MoveArgs {
    /// Product to move the devices to (name or ID)
    #[arg(long, value_name = "PRODUCT")]
    pub to_product: String,

    /// Cohort of the target product the devices join (default: none)
    #[arg(long, value_name = "COHORT")]
    pub to_cohort: Option<String>,

    /// Show what would happen and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Only devices of this product (name or ID)
    #[arg(long, short = 'P', help_heading = "Selecting devices")]
    pub product: Option<String>,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

struct Move {
    body: MoveDevices,
    /// The target product's name, for messages (the user may have given its ID).
    to_product_name: String,
}

impl Operation for Move {
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult> {
        let body = MoveDevices {
            dry_run,
            list,
            ..self.body.clone()
        };
        client.bulk().move_devices(&body).await
    }

    fn action(&self, count: u64) -> String {
        let mut action = format!(
            "move {} to product `{}`",
            devices(count),
            self.to_product_name
        );
        if let Some(cohort) = &self.body.to_cohort {
            action.push_str(&format!(", cohort `{cohort}`"));
        }
        action
    }

    fn done(&self, result: &BulkResult) -> String {
        let mut line = format!(
            "moved {} to product `{}`; {} must be re-provisioned",
            devices(result.changed),
            result
                .devices
                .first()
                .map_or(self.to_product_name.as_str(), |d| d.product.as_str()),
            it_or_they(result.changed)
        );
        if result.unchanged > 0 {
            line.push_str(&format!(
                " ({} already there, left alone)",
                devices(result.unchanged)
            ));
        }
        line
    }

    fn caution(&self) -> Option<&'static str> {
        Some(
            "moved devices lose their credentials and configuration override, and must be \
             re-provisioned",
        )
    }
}

pub async fn run(ctx: &Context, args: MoveArgs) -> Result<()> {
    let to_product_name = bulk::product_name(ctx, &args.to_product).await;
    let op = Move {
        to_product_name,
        body: MoveDevices {
            selection: args.selection.into_selection(args.product)?,
            to_product: args.to_product,
            to_cohort: args.to_cohort,
            dry_run: false,
            list: BulkListing::default(),
        },
    };
    bulk::execute(ctx, &op, args.dry_run).await
}
