//! `fleet ca generate`.

use std::path::PathBuf;

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::pki::{self, CA_CERT_FILE, CA_KEY_FILE, Validity};

/// Make a new CA for development or a factory: writes DIR/ca.pem and DIR/ca.key (ECDSA P-256,
/// key mode 0600). Never overwrites a file; needs no service.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  fleet ca generate factory --out ./factory-ca
  fleet ca add factory --product sensor --cert ./factory-ca/ca.pem
  fleet device cert issue sn-0042 --ca ./factory-ca --out ./certs

The key is ECDSA P-256, written with mode 0600; an existing ca.pem or ca.key is refused (exit 2), never overwritten. Keep ca.key secret: whoever holds it can make certificates your devices are admitted with.")]
pub struct GenerateArgs {
    /// The CA's name (its certificate's subject CN)
    pub name: String,

    /// Directory to write ca.pem and ca.key to (created if missing; existing files are refused)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// How long the CA certificate is valid, in days
    #[arg(long, value_name = "N", default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
}

pub fn run(ctx: &Context, args: GenerateArgs) -> Result<()> {
    let ca = pki::generate_ca(&args.name, Validity { days: args.days })?;
    pki::write_new_files(
        &args.out,
        &[
            (CA_CERT_FILE, &ca.cert_pem, false),
            (CA_KEY_FILE, &ca.key_pem, true),
        ],
    )?;
    let (cert, key) = (args.out.join(CA_CERT_FILE), args.out.join(CA_KEY_FILE));
    ctx.printer.status(&format!(
        "wrote CA `{}` to `{}` and its key to `{}` (mode 0600), valid {} days",
        args.name,
        cert.display(),
        key.display(),
        args.days
    ));
    ctx.printer.hint(&format!(
        "register it with `fleet ca add {} --product PRODUCT --cert {}`",
        args.name,
        cert.display()
    ));
    Ok(())
}
