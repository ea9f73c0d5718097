//! `fleet release show`.

use clap::Args;

use crate::api::ReleaseId;
use crate::commands::by_id;
use crate::context::Context;
use crate::error::{Error, Result};

/// Show a release
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  fleet release show rel_0193…")]
pub struct ShowArgs {
    /// Release ID
    pub release: String,
    /// Product name or ID (optional: the release is found by its ID)
    #[arg(long, short = 'P')]
    pub product: Option<String>,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let release = find(ctx, args.product.as_deref(), &args.release).await?;
    ctx.printer.show(&release)
}

/// The release `release` (an ID) of `product`, or of whichever product has it.
pub(super) async fn find(
    ctx: &Context,
    product: Option<&str>,
    release: &str,
) -> Result<crate::api::Release> {
    let client = ctx.client()?;
    match product {
        Some(product) => client.firmware().release(product, release).await,
        // Releases have no names: without a product, only an ID can be looked for.
        None if ReleaseId::parse(release).is_none() => Err(Error::usage(format!(
            "`{release}` is not a release ID (`rel_…`)"
        ))
        .hint("list releases with `fleet release list --product PRODUCT`")),
        None => {
            by_id::find(client, "release", release, |client, product| {
                let release = release.to_owned();
                async move { client.firmware().release(&product, &release).await }
            })
            .await
        }
    }
}
