//! `fleet firmware abandon`: give up an unfinished upload, by binary ID or by what it is.

use clap::Args;

use super::show::{BinaryRef, find};
use crate::api::BinaryState;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::prompt;

/// Give up an unfinished upload: the binary and the parts it received are deleted. A ready
/// binary is immutable and cannot be abandoned. Asks first; pass --yes without a terminal.
///
/// The service also abandons uploads that saw no activity for a while by itself
/// (`fleet server --upload-expiry`). Prints the binary as it was.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  \
    fleet firmware list --state uploading\n  \
    fleet firmware abandon bin_0190c2d4a8f47d8e9b2f3c4d5e6f7a8b --yes\n  \
    fleet firmware abandon -P indoor-sensor -a app --version 1.4.0 -t armv7"
)]
pub struct AbandonArgs {
    /// Binary ID (see `fleet firmware list --state uploading`); or name it with -P, -a, -V, -t
    #[arg(
        value_name = "BINARY",
        required_unless_present = "product",
        conflicts_with = "product"
    )]
    pub binary: Option<String>,
    /// Product name or ID
    #[arg(long, short = 'P', requires_all = ["artifact", "artifact_version", "target"])]
    pub product: Option<String>,
    /// Artifact name or ID
    #[arg(long, short = 'a', requires = "product")]
    pub artifact: Option<String>,
    /// Version string
    #[arg(
        id = "artifact_version",
        long = "version",
        value_name = "VERSION",
        requires = "product"
    )]
    pub version: Option<String>,
    /// Hardware target
    #[arg(long, short = 't', requires = "product")]
    pub target: Option<String>,
}

pub async fn run(ctx: &Context, args: AbandonArgs) -> Result<()> {
    let client = ctx.client()?;
    let binary = match (args.binary, args.product) {
        (Some(id), _) => client.firmware().binary(&id).await?,
        (None, Some(product)) => {
            let named = BinaryRef {
                product,
                artifact: args.artifact.unwrap_or_default(),
                version: args.version.unwrap_or_default(),
                target: args.target.unwrap_or_default(),
            };
            find(client, &named).await?
        }
        (None, None) => return Err(Error::usage("name the binary: its ID, or -P, -a, -V, -t")),
    };
    let what = format!(
        "{} {} for `{}` ({})",
        binary.artifact, binary.version, binary.target, binary.id
    );
    // A ready binary goes straight to the service, whose refusal says what to do instead:
    // there is nothing to confirm, as nothing will be deleted.
    if binary.state != BinaryState::Ready {
        prompt::confirm(
            ctx,
            &format!("abandon the unfinished upload of {what} and delete its parts"),
        )?;
    }
    client.firmware().abandon(binary.id.as_str()).await?;
    ctx.printer.status(&format!(
        "abandoned the upload of {what}; its parts are deleted"
    ));
    ctx.printer.show(&binary)
}
