//! `fleet signing-key generate`.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use rand::RngCore as _;

use crate::api::CreateSigningKey;
use crate::commands::firmware::local::public_key_b64;
use crate::context::Context;
use crate::error::{Error, Result, io_error};

/// Make an Ed25519 key pair: write the private key (PKCS#8 PEM, mode 0600, never overwriting)
/// and register the public key under NAME
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  fleet signing-key generate release-2026 --out ~/.fleet/release-2026.pem"
)]
pub struct GenerateArgs {
    /// Name of the key, unique in the organization
    pub name: String,
    /// Where to write the private key; must not exist
    #[arg(long, value_name = "KEYFILE")]
    pub out: PathBuf,
}

pub async fn run(ctx: &Context, args: GenerateArgs) -> Result<()> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|err| Error::failure(format!("could not encode the key: {err}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&args.out).map_err(|err| {
        let error = io_error("create", &args.out, err);
        if args.out.exists() {
            error.hint("it exists already; a key file is never overwritten: choose another path")
        } else {
            error
        }
    })?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| io_error("write", &args.out, err))?;
    let body = CreateSigningKey {
        name: args.name,
        public_key: public_key_b64(&key),
    };
    let registered = ctx.client()?.firmware().create_key(&body).await.map_err(|err| {
        err.hint(format!(
            "the private key was written to `{}`; register it later with `fleet signing-key register NAME --key {}`",
            args.out.display(),
            args.out.display()
        ))
    })?;
    ctx.printer.show(&registered)?;
    ctx.printer.status(&format!(
        "wrote the private key to `{}` and registered `{}` ({})",
        args.out.display(),
        registered.name,
        registered.fingerprint
    ));
    Ok(())
}
