//! `fleet bundle create`.

use clap::Args;

use crate::api::CreateBundle;
use crate::context::Context;
use crate::error::Result;
use crate::output::wording::count_of;

/// Create a bundle: an immutable, ordered set of ready binaries of one product
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet bundle create [OPTIONS] <NAME> --product <PRODUCT>\n       --binary <BINARY_ID>...",
    after_help = "Example:\n  fleet bundle create spring-2026 -P indoor-sensor \\\n    \
    --binary bin_0193… --binary bin_0194…"
)]
pub struct CreateArgs {
    /// Name, unique in the product
    pub name: String,
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    /// Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)
    #[arg(
        long = "binary",
        short = 'b',
        value_name = "BINARY_ID",
        required = true
    )]
    pub binaries: Vec<String>,
    /// What the bundle is for
    #[arg(long, short = 'd')]
    pub description: Option<String>,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let body = CreateBundle {
        name: args.name,
        description: args.description,
        binaries: args.binaries,
    };
    let bundle = ctx
        .client()?
        .firmware()
        .create_bundle(&args.product, &body)
        .await?;
    ctx.printer.show(&bundle)?;
    ctx.printer.status(&format!(
        "created bundle `{}` with {} ({})",
        bundle.name,
        count_of(bundle.binaries.len() as u64, "binary", "binaries"),
        bundle.id
    ));
    Ok(())
}
