//! Local configuration: where the config directory is, the profiles in `config.toml`, their API
//! keys in `credentials.toml` (0600, written atomically), and the precedence that turns flags,
//! env vars and profiles into the settings a command uses.

mod files;
mod paths;
mod settings;

use std::path::{Path, PathBuf};

pub use files::{
    CONFIG_FILE, CREDENTIALS_FILE, ConfigFile, CredentialsFile, load_config, load_credentials,
};
pub use paths::{PathEnv, config_dir_from};
pub use settings::{Origin, Overrides, Settings, origin, profile_names, profiles_hint, resolve};

use crate::error::{Error, Result};

/// `--config-dir` / `FLEET_CONFIG_DIR` (both arrive via clap as one flag value) >
/// `$XDG_CONFIG_HOME/fleet` > the `directories` config dir.
pub fn resolve_config_dir(flag: Option<&Path>) -> Result<PathBuf> {
    config_dir_from(flag, &PathEnv::from_process()).ok_or_else(|| {
        Error::usage("could not find a config directory (no home directory)")
            .hint("pass --config-dir DIR or set FLEET_CONFIG_DIR")
    })
}

/// What [`save_profile`] did.
#[derive(Debug, Clone)]
pub struct SavedProfile {
    /// It was not the default before and is now.
    pub became_default: bool,
    /// It is the default profile after saving (newly or as before).
    pub is_default: bool,
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
}

/// Profile names become TOML keys and appear in commands; keep them plain.
pub fn validate_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(
            Error::usage(format!("`{name}` is not a valid profile name"))
                .hint("use 1–64 letters, digits, `-`, `_` or `.`"),
        )
    }
}

/// Adds or replaces profile `name` (api_url in config.toml, api_key in credentials.toml 0600,
/// atomic); makes it the default profile if there is none.
pub fn save_profile(
    config_dir: &Path,
    name: &str,
    api_url: &str,
    api_key: &str,
) -> Result<SavedProfile> {
    validate_profile_name(name)?;
    // Credentials first: a profile whose URL exists but whose key is missing is worse than an
    // orphaned key nobody selects.
    let credentials_path = files::edit(config_dir, CREDENTIALS_FILE, true, |doc| {
        files::set_string(files::profile_table(doc, name)?, "api_key", api_key);
        Ok(())
    })?;
    let mut became_default = false;
    let mut is_default = false;
    let config_path = files::edit(config_dir, CONFIG_FILE, false, |doc| {
        files::set_string(files::profile_table(doc, name)?, "api_url", api_url);
        let current = doc
            .get("default_profile")
            .and_then(|d| d.as_str())
            .map(str::to_owned);
        match current {
            Some(current) if current == name => is_default = true,
            Some(current) if has_profile(doc, &current) => {}
            _ => {
                set_default_in(doc, name);
                became_default = true;
                is_default = true;
            }
        }
        Ok(())
    })?;
    Ok(SavedProfile {
        became_default,
        is_default,
        config_path,
        credentials_path,
    })
}

fn has_profile(doc: &toml_edit::DocumentMut, name: &str) -> bool {
    doc.get("profiles")
        .and_then(|p| p.as_table_like())
        .is_some_and(|p| p.contains_key(name))
}

fn set_default_in(doc: &mut toml_edit::DocumentMut, name: &str) {
    // `insert` on a fresh document puts the key at the top, before any `[profiles.*]` table.
    doc.insert("default_profile", toml_edit::value(name));
}

/// Makes `name` the default profile.
pub fn set_default_profile(config_dir: &Path, name: &str) -> Result<()> {
    ensure_exists(config_dir, name)?;
    files::edit(config_dir, CONFIG_FILE, false, |doc| {
        set_default_in(doc, name);
        Ok(())
    })?;
    Ok(())
}

/// Removes profile `name` from both files; returns whether it was the default (which is then
/// unset).
pub fn remove_profile(config_dir: &Path, name: &str) -> Result<bool> {
    ensure_exists(config_dir, name)?;
    let mut was_default = false;
    files::edit(config_dir, CONFIG_FILE, false, |doc| {
        files::remove_profile(doc, name);
        if doc.get("default_profile").and_then(|d| d.as_str()) == Some(name) {
            doc.remove("default_profile");
            was_default = true;
        }
        Ok(())
    })?;
    if config_dir.join(CREDENTIALS_FILE).exists() {
        files::edit(config_dir, CREDENTIALS_FILE, true, |doc| {
            files::remove_profile(doc, name);
            Ok(())
        })?;
    }
    Ok(was_default)
}

fn ensure_exists(config_dir: &Path, name: &str) -> Result<()> {
    let config = load_config(config_dir)?;
    let (credentials, _) = load_credentials(config_dir)?;
    if profile_names(&config, &credentials)
        .iter()
        .any(|n| n == name)
    {
        Ok(())
    } else {
        Err(Error::usage(format!("profile `{name}` does not exist"))
            .hint(profiles_hint(&config, &credentials)))
    }
}

/// A profile as the config files describe it. Never holds the key itself.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub api_url: Option<String>,
    pub has_api_key: bool,
    pub default: bool,
}

/// Every profile with its URL, whether a key is stored, and whether it is the default. The
/// second value is a permission warning for the credentials file, if any.
pub fn list_profiles(config_dir: &Path) -> Result<(Vec<Profile>, Option<String>)> {
    let config = load_config(config_dir)?;
    let (credentials, warning) = load_credentials(config_dir)?;
    let views = profile_names(&config, &credentials)
        .into_iter()
        .map(|name| Profile {
            api_url: config.profiles.get(&name).and_then(|p| p.api_url.clone()),
            has_api_key: credentials
                .profiles
                .get(&name)
                .is_some_and(|c| c.api_key.as_deref().is_some_and(|k| !k.is_empty())),
            default: config.default_profile.as_deref() == Some(name.as_str()),
            name,
        })
        .collect();
    Ok((views, warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_and_the_first_profile_becomes_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "# my fleet settings\n[profiles.old] # keep me\napi_url = \"http://old\" # and me\n",
        )
        .expect("write");
        let saved = save_profile(dir.path(), "new", "http://new", "k1").expect("save");
        assert!(saved.became_default);
        let second = save_profile(dir.path(), "other", "http://o", "k2").expect("save");
        save_profile(dir.path(), "old", "http://old2", "k0").expect("replace");
        assert!(!second.became_default && !second.is_default);
        let again = save_profile(dir.path(), "new", "http://new2", "k1").expect("replace");
        assert!(
            !again.became_default && again.is_default,
            "still the default"
        );
        let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).expect("read");
        assert!(text.contains("# my fleet settings"), "{text}");
        assert!(text.contains("# keep me"), "{text}");
        assert!(text.contains("\"http://old2\" # and me"), "{text}");
        assert!(text.contains("default_profile = \"new\""), "{text}");

        assert!(remove_profile(dir.path(), "new").expect("remove"));
        let (views, _) = list_profiles(dir.path()).expect("list");
        let names: Vec<_> = views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["old", "other"]);
        let creds = std::fs::read_to_string(dir.path().join(CREDENTIALS_FILE)).expect("read");
        assert!(!creds.contains("k1") && creds.contains("k2"), "{creds}");
    }

    #[cfg(unix)]
    #[test]
    fn credentials_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let saved = save_profile(dir.path(), "p", "http://x", "secret").expect("save");
        let mode = std::fs::metadata(&saved.credentials_path)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (_, warning) = load_credentials(dir.path()).expect("load");
        assert!(warning.is_none());
        std::fs::set_permissions(
            &saved.credentials_path,
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let (_, warning) = load_credentials(dir.path()).expect("load");
        assert!(warning.is_some_and(|w| w.contains("chmod 600")));
    }

    #[test]
    fn bad_profile_names_are_refused() {
        assert!(validate_profile_name("prod-eu").is_ok());
        assert!(validate_profile_name("").is_err());
        assert!(validate_profile_name("a b").is_err());
        assert!(validate_profile_name("a]b").is_err());
    }
}
