//! `fleet bundle show`.

use clap::Args;

use crate::api::BundleId;
use crate::commands::by_id;
use crate::context::Context;
use crate::error::Result;

/// Show a bundle and its binaries
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet bundle show spring-2026 -P indoor-sensor\n  fleet bundle show bnd_0193…"
)]
pub struct ShowArgs {
    /// Bundle name or ID
    pub bundle: String,
    /// Product name or ID; not needed with a bundle ID
    #[arg(long, short = 'P')]
    pub product: Option<String>,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let client = ctx.client()?;
    let bundle = match (&args.product, BundleId::parse(&args.bundle)) {
        (Some(product), _) => client.firmware().bundle(product, &args.bundle).await?,
        (None, Some(_)) => {
            by_id::find(client, "bundle", &args.bundle, |client, product| {
                let bundle = args.bundle.clone();
                async move { client.firmware().bundle(&product, &bundle).await }
            })
            .await?
        }
        (None, None) => return Err(by_id::needs_product("bundle", &args.bundle)),
    };
    ctx.printer.show(&bundle)
}
