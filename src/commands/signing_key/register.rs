//! `fleet signing-key register`.

use std::path::PathBuf;

use clap::Args;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;

use crate::api::CreateSigningKey;
use crate::commands::firmware::local::public_key_b64;
use crate::context::Context;
use crate::error::{Result, io_error};

/// Register a public key: a public key PEM, base64 of the 32 key bytes, or a private key PEM
/// (only its public half is sent)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fleet signing-key register ci --key ci.pub.pem\n  \
    openssl genpkey -algorithm ed25519 -out ci.pem\n  \
    fleet signing-key register ci --key ci.pem"
)]
pub struct RegisterArgs {
    /// Name of the key, unique in the organization
    pub name: String,
    /// File holding the key
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
}

pub async fn run(ctx: &Context, args: RegisterArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(&args.key).map_err(|err| io_error("read", &args.key, err))?;
    // Never send a private key: reduce it to its public half here.
    let public_key = match SigningKey::from_pkcs8_pem(&text) {
        Ok(private) => public_key_b64(&private),
        Err(_) => text.trim().to_owned(),
    };
    let body = CreateSigningKey {
        name: args.name,
        public_key,
    };
    let key = ctx.client()?.firmware().create_key(&body).await?;
    ctx.printer.show(&key)?;
    ctx.printer.status(&format!(
        "registered signing key `{}` ({})",
        key.name, key.fingerprint
    ));
    Ok(())
}
