//! `fleet config override`: the same keys set or removed in many devices' overrides at once.

use clap::Args;
use serde_json::Map;

use super::MessageArgs;
use crate::api::config::{parse_assignment, split_path};
use crate::api::{BulkListing, BulkResult, ConfigureDevices};
use crate::client::ApiClient;
use crate::commands::bulk::selection::SelectionArgs;
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::{Error, Result};

/// Set or remove keys in the device-level override of many devices, all or none
///
/// Each selected device's override gets the keys (a new revision of it); devices whose
/// override already reads so are left alone. Values are read as in `fleet config set`. Every
/// selected device must be in the product, and every effective configuration must still
/// satisfy the product's schema, or nothing is written.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  fleet config override -P indoor-sensor --set log.level=debug \\
    --tag site:berlin --dry-run
  fleet config override -P indoor-sensor --set sampling.rate=60 sn-0001 sn-0002
  fleet config override -P indoor-sensor --unset log.level --cohort beta \\
    -m 'back to default'")]
pub struct OverrideArgs {
    /// The devices' product (name or ID)
    #[arg(long, short = 'P')]
    pub product: String,

    /// Set `key.path=value` in each override (repeatable)
    #[arg(
        long = "set",
        value_name = "KEY=VALUE",
        required_unless_present = "unset"
    )]
    pub set: Vec<String>,

    /// Remove KEY from each override, so the device inherits it again (repeatable)
    #[arg(long = "unset", value_name = "KEY")]
    pub unset: Vec<String>,

    /// Show what would happen and change nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub message: MessageArgs,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

struct Configure {
    body: ConfigureDevices,
    product_name: String,
}

impl Operation for Configure {
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult> {
        let body = ConfigureDevices {
            dry_run,
            list,
            ..self.body.clone()
        };
        client.bulk().configure(&body).await
    }

    fn action(&self, count: u64) -> String {
        format!(
            "change the configuration override of {} of product `{}`",
            devices(count),
            self.product_name
        )
    }

    fn done(&self, result: &BulkResult) -> String {
        let mut line = format!(
            "changed the configuration override of {}",
            devices(result.changed)
        );
        if result.unchanged > 0 {
            line.push_str(&format!(
                " ({} already as requested)",
                devices(result.unchanged)
            ));
        }
        line
    }
}

pub async fn run(ctx: &Context, args: OverrideArgs) -> Result<()> {
    let mut set = Map::new();
    for text in &args.set {
        let (path, value) = parse_assignment(text).map_err(|message| {
            Error::usage(message).hint("write each as --set key.path=value, e.g. log.level=debug")
        })?;
        set.insert(path, value);
    }
    for key in &args.unset {
        split_path(key).map_err(Error::usage)?;
    }
    let product_name = bulk::product_name(ctx, &args.product).await;
    let op = Configure {
        product_name,
        body: ConfigureDevices {
            selection: args.selection.into_selection(None)?,
            product: args.product,
            set,
            unset: args.unset,
            message: args.message.message,
            dry_run: false,
            list: BulkListing::default(),
        },
    };
    bulk::execute(ctx, &op, args.dry_run).await
}
