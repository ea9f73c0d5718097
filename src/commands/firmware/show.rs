//! `fleet firmware show`, and finding one binary by product, artifact, version and target.

use clap::Args;

use crate::api::{Binary, BinaryListQuery};
use crate::client::ApiClient;
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};

/// Which binary: product, artifact, version and target.
#[derive(Debug, Args)]
pub struct BinaryRef {
    /// Product name or ID
    #[arg(long, short = 'P')]
    pub product: String,
    /// Artifact name or ID
    #[arg(long, short = 'a')]
    pub artifact: String,
    /// Version string
    #[arg(id = "artifact_version", long = "version", value_name = "VERSION")]
    pub version: String,
    /// Hardware target
    #[arg(long, short = 't')]
    pub target: String,
}

/// Show one binary
#[derive(Debug, Args)]
#[command(
    // clap's own usage line is wider than 80 columns.
    override_usage = "fleet firmware show --product <PRODUCT> --artifact <ARTIFACT>\n       --version <VERSION> --target <TARGET>",
    disable_version_flag = true,
    after_help = "Example:\n  fleet firmware show -P indoor-sensor -a app --version 1.4.0 -t armv7"
)]
pub struct ShowArgs {
    #[command(flatten)]
    pub binary: BinaryRef,
}

pub async fn find(client: &ApiClient, r: &BinaryRef) -> Result<Binary> {
    let query = BinaryListQuery {
        product: Some(r.product.clone()),
        artifact: Some(r.artifact.clone()),
        version: Some(r.version.clone()),
        target: Some(r.target.clone()),
        ..Default::default()
    };
    let page = client.firmware().binaries(&query).await?;
    page.data.into_iter().next().ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "no binary of {} {} for target `{}` in product `{}`",
                r.artifact, r.version, r.target, r.product
            ),
        )
        .hint(format!(
            "list them with `fleet firmware list --product {}`",
            r.product
        ))
    })
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<()> {
    let binary = find(ctx.client()?, &args.binary).await?;
    ctx.printer.show(&binary)
}
