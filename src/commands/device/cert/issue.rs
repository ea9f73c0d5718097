//! `fleet device cert issue`.

use std::path::PathBuf;

use clap::Args;

use crate::api::validate;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::pki::{self, CaDir, Validity};

/// Issue a device certificate under a local CA directory (from `fleet ca generate`): writes
/// DIR/IDENTIFIER.pem and DIR/IDENTIFIER.key (ECDSA P-256, key mode 0600). Never overwrites a
/// file; needs no service.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  fleet device cert issue sn-0042 --ca ./factory-ca --out ./certs
  fleet device cert add sn-0042 --cert ./certs/sn-0042.pem

The certificate's subject CN is IDENTIFIER; the key is ECDSA P-256, written with mode 0600; an existing file is refused (exit 2), never overwritten. Register the certificate with `fleet device cert add`, or let a CA with JITP on provision the device the first time it connects.")]
pub struct IssueArgs {
    /// The device's identifier (the certificate's subject CN)
    pub identifier: String,

    /// CA directory holding ca.pem and ca.key
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,

    /// Directory to write IDENTIFIER.pem and IDENTIFIER.key to (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// How long the certificate is valid, in days
    #[arg(long, value_name = "N", default_value_t = 825, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
}

pub fn run(ctx: &Context, args: IssueArgs) -> Result<()> {
    // The identifier names files, so it must be one the service would accept anyway.
    validate::device_identifier(&args.identifier).map_err(Error::usage)?;
    let ca = CaDir::open(&args.ca)?;
    let issued = pki::issue_device_cert(&ca, &args.identifier, Validity { days: args.days })?;
    let (cert_name, key_name) = (
        format!("{}.pem", args.identifier),
        format!("{}.key", args.identifier),
    );
    pki::write_new_files(
        &args.out,
        &[
            (&cert_name, &issued.cert_pem, false),
            (&key_name, &issued.key_pem, true),
        ],
    )?;
    let cert = args.out.join(&cert_name);
    ctx.printer.status(&format!(
        "issued a certificate for `{}` under `{}`: `{}` and `{}` (mode 0600), valid {} days",
        args.identifier,
        args.ca.display(),
        cert.display(),
        args.out.join(&key_name).display(),
        args.days
    ));
    ctx.printer.hint(&format!(
        "register it with `fleet device cert add {} --cert {}`",
        args.identifier,
        cert.display()
    ));
    Ok(())
}
