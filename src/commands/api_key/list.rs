//! `fleet api-key list`.

use clap::Args;

use crate::api::ApiKeyListQuery;
use crate::commands::PageArgs;
use crate::context::Context;
use crate::error::Result;

/// List API keys in creation order: name, ID, prefix, role, products and state. Never secrets.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet api-key list\n  fleet api-key list --revoked -o json")]
pub struct ListArgs {
    /// Include revoked keys
    #[arg(long)]
    pub revoked: bool,

    #[command(flatten)]
    pub page: PageArgs,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<()> {
    let query = ApiKeyListQuery {
        revoked: args.revoked.then_some(true),
        ..Default::default()
    };
    let paging = args.page.paging(ctx.printer.format());
    let stream = ctx.client()?.api_keys().list_up_to(query, paging.max());
    ctx.printer.print_stream(stream, paging, "API keys").await?;
    Ok(())
}
