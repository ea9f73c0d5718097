//! The profile `fleet server` keeps for its bootstrap admin key: which name it is saved under
//! (never over a profile that already exists), and the start-up check that the profiles
//! pointing at this service still hold a key of the data it serves.

use std::path::Path;

use crate::config::{self, SavedProfile};
use crate::error::Result;

/// The name a first bootstrap key is saved as.
pub const BOOTSTRAP_PROFILE: &str = "local";

/// A profile name that is not taken yet: `local`, else `local-<port>`, else `local-<port>-2`,
/// `-3`, … An existing profile is never replaced, so another server's key is never lost.
pub fn free_profile_name(config_dir: &Path, port: u16) -> Result<String> {
    let (profiles, _) = config::list_profiles(config_dir)?;
    let taken = |name: &str| profiles.iter().any(|p| p.name == name);
    if !taken(BOOTSTRAP_PROFILE) {
        return Ok(BOOTSTRAP_PROFILE.to_owned());
    }
    let base = format!("{BOOTSTRAP_PROFILE}-{port}");
    let mut name = base.clone();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    Ok(name)
}

/// Saves the bootstrap key under a free name; returns the name and what was written.
pub fn save_bootstrap(
    config_dir: &Path,
    url: &str,
    port: u16,
    key: &str,
) -> Result<(String, SavedProfile)> {
    let name = free_profile_name(config_dir, port)?;
    let saved = config::save_profile(config_dir, &name, url, key)?;
    Ok((name, saved))
}

/// A stored profile that points at this service: its name and key.
pub struct ProfileAtUrl {
    pub name: String,
    pub api_key: String,
}

/// The profiles whose `api_url` is `url` and that store a key.
pub fn profiles_at(config_dir: &Path, url: &str) -> Result<Vec<ProfileAtUrl>> {
    let config = config::load_config(config_dir)?;
    let (credentials, _) = config::load_credentials(config_dir)?;
    let same_url = |u: &str| u.trim_end_matches('/') == url.trim_end_matches('/');
    Ok(config
        .profiles
        .iter()
        .filter(|(_, p)| p.api_url.as_deref().is_some_and(same_url))
        .filter_map(|(name, _)| {
            let key = credentials.profiles.get(name)?.api_key.clone()?;
            (!key.is_empty()).then(|| ProfileAtUrl {
                name: name.clone(),
                api_key: key,
            })
        })
        .collect())
}
