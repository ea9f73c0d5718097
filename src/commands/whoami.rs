//! `fleet whoami`.

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::output::WhoamiView;

/// Show which profile, service URL and API key are in effect, where each setting came from
/// (flag, env var or profile), and the key's name, role and product scope
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fleet whoami\n  FLEET_PROFILE=prod fleet whoami -o json")]
pub struct WhoamiArgs {}

pub async fn run(ctx: &Context, _args: WhoamiArgs) -> Result<()> {
    let settings = ctx.settings()?;
    let me = ctx.client()?.api_keys().whoami().await?;
    let view = WhoamiView {
        profile: settings.profile.clone(),
        profile_source: settings.profile_source.clone(),
        api_url: settings.api_url.clone(),
        api_url_source: settings.url_source.clone(),
        api_key_source: settings.key_source.clone(),
        key_id: me.key_id.to_string(),
        key_name: me.key_name,
        role: me.role.to_string(),
        products: me.products,
        org: me.org_name,
        expires_at: me.expires_at,
    };
    ctx.printer.show(&view)
}
