//! `fleet api-key create`.

use std::time::Duration;

use clap::Args;

use crate::api::{CreateApiKey, Role};
use crate::context::Context;
use crate::error::Result;

/// Create an API key with a role and, optionally, a product scope and an expiry. The secret is
/// printed once, on stdout (in the JSON with `-o json`); the service keeps only its hash.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    fleet api-key create ci --role write --product indoor-sensor --expires-in 90d\n  \
    fleet api-key create support --role read -o json | jq -r .secret")]
pub struct CreateArgs {
    /// A name for the key, e.g. who or what uses it
    pub name: String,

    /// What the key may do: `read`, `write` (fleet resources) or `admin` (also keys)
    #[arg(long, value_parser = parse_role)]
    pub role: Role,

    /// Limit the key to this product (name or ID; repeatable). Default: every product
    #[arg(long = "product", value_name = "PRODUCT")]
    pub products: Vec<String>,

    /// Let the key expire after this long, e.g. 90d, 12h
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    pub expires_in: Option<Duration>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}` is not a role: use read, write or admin"))
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<()> {
    let expires_at = args.expires_in.map(super::after).transpose()?;
    let body = CreateApiKey {
        name: args.name,
        role: args.role,
        products: (!args.products.is_empty()).then_some(args.products),
        expires_at,
    };
    let created = ctx.client()?.api_keys().create(&body).await?;
    ctx.printer.status(&format!(
        "created API key `{}` ({}, role {})",
        created.key.name, created.key.id, created.key.role
    ));
    ctx.printer
        .warn("the secret is shown only this once: store it now (e.g. `fleet profile add NAME --api-url URL --api-key-stdin`)");
    ctx.printer.show(&created)
}
