//! Which service URL and API key a command uses: flag > env var (both arrive through clap) >
//! the selected profile (`--profile` / `FLEET_PROFILE`) > the default profile.

use std::path::Path;

use super::files::{ConfigFile, CredentialsFile};
use crate::error::{Error, ErrorKind, Result};

/// What the command line (flags and `FLEET_*` variables, already merged by clap) asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides<'a> {
    pub profile: Option<&'a str>,
    pub api_url: Option<&'a str>,
    pub api_key: Option<&'a str>,
    /// Whether each came from a flag or its env var (clap merges them; see [`origin`]).
    pub profile_origin: Origin,
    pub api_url_origin: Origin,
    pub api_key_origin: Origin,
}

/// Where an override came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    #[default]
    Flag,
    Env,
}

/// Whether clap's merged `value` came from the environment variable `var` rather than the flag:
/// a value equal to the variable's is taken as the variable's (the flag, if also given with the
/// same value, would have made no difference).
pub fn origin(value: Option<&str>, var: &str) -> Origin {
    match (value, std::env::var(var)) {
        (Some(value), Ok(env)) if env == value => Origin::Env,
        _ => Origin::Flag,
    }
}

fn describe(origin: Origin, flag: &str, var: &str) -> String {
    match origin {
        Origin::Flag => format!("flag {flag}"),
        Origin::Env => format!("env var {var}"),
    }
}

/// The resolved connection settings.
#[derive(Clone)]
pub struct Settings {
    /// The profile in use, if any.
    pub profile: Option<String>,
    pub api_url: String,
    pub api_key: String,
    /// Where the key came from, for hints when the service rejects it (and `whoami`).
    pub key_source: String,
    /// Where the profile and the URL came from, for `whoami`.
    pub profile_source: String,
    pub url_source: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("profile", &self.profile)
            .field("api_url", &self.api_url)
            .field("key_source", &self.key_source)
            .field("url_source", &self.url_source)
            .finish_non_exhaustive()
    }
}

/// Names of all profiles in either file, sorted.
pub fn profile_names(config: &ConfigFile, credentials: &CredentialsFile) -> Vec<String> {
    let mut names: Vec<String> = config
        .profiles
        .keys()
        .chain(credentials.profiles.keys())
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The hint that lists what exists, or says how to make the first profile.
pub fn profiles_hint(config: &ConfigFile, credentials: &CredentialsFile) -> String {
    let names = profile_names(config, credentials);
    if names.is_empty() {
        "there are no profiles yet: `fleet server` creates profile `local`, or run `fleet profile add NAME --api-url URL`".to_owned()
    } else {
        format!("existing profiles: {}", names.join(", "))
    }
}

pub fn resolve(
    overrides: Overrides<'_>,
    config: &ConfigFile,
    credentials: &CredentialsFile,
    config_dir: &Path,
) -> Result<Settings> {
    let known =
        |name: &str| config.profiles.contains_key(name) || credentials.profiles.contains_key(name);
    let profile_source = match (overrides.profile, &config.default_profile) {
        (Some(_), _) => describe(overrides.profile_origin, "--profile", "FLEET_PROFILE"),
        (None, Some(_)) => format!("default_profile in {}", super::CONFIG_FILE),
        (None, None) => "nowhere (no profile)".to_owned(),
    };
    let profile = match (overrides.profile, &config.default_profile) {
        (Some(name), _) if !known(name) => {
            return Err(Error::usage(format!("profile `{name}` does not exist"))
                .hint(profiles_hint(config, credentials)));
        }
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(name)) if !known(name) => {
            return Err(Error::usage(format!(
                "the default profile `{name}` in `{}` does not exist",
                config_dir.join(super::CONFIG_FILE).display()
            ))
            .hint("choose another with `fleet profile use NAME`")
            .hint(profiles_hint(config, credentials)));
        }
        (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    let from_profile = profile.as_deref();

    let url_source = match (overrides.api_url, from_profile) {
        (Some(_), _) => describe(overrides.api_url_origin, "--api-url", "FLEET_API_URL"),
        (None, Some(p)) => format!("profile `{p}`"),
        (None, None) => String::new(),
    };
    let api_url = overrides.api_url.map(str::to_owned).or_else(|| {
        from_profile
            .and_then(|p| config.profiles.get(p))
            .and_then(|p| p.api_url.clone())
    });
    let Some(api_url) = api_url.filter(|u| !u.is_empty()) else {
        let message = match from_profile {
            Some(p) => format!("profile `{p}` has no API URL"),
            None => "no fleet service is configured".to_owned(),
        };
        return Err(Error::usage(message)
            .hint("start a local service with `fleet server` (it creates profile `local`), or run `fleet profile add NAME --api-url URL`")
            .hint("or pass --api-url / set FLEET_API_URL"));
    };

    let (api_key, key_source) = match (overrides.api_key, from_profile) {
        (Some(key), _) => (
            Some(key.to_owned()),
            describe(overrides.api_key_origin, "--api-key", "FLEET_API_KEY"),
        ),
        (None, Some(p)) => (
            credentials.profiles.get(p).and_then(|c| c.api_key.clone()),
            format!("profile `{p}`"),
        ),
        (None, None) => (None, String::new()),
    };
    let Some(api_key) = api_key.filter(|k| !k.is_empty()) else {
        let message = match from_profile {
            Some(p) => format!("profile `{p}` has no API key"),
            None => "no API key is configured".to_owned(),
        };
        return Err(Error::new(ErrorKind::Auth, message)
            .hint("store one with `fleet profile add NAME --api-url URL`, or set FLEET_API_KEY"));
    };

    Ok(Settings {
        profile,
        api_url,
        api_key,
        key_source,
        profile_source,
        url_source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::files::{ProfileConfig, ProfileCredentials};
    use super::*;

    fn files() -> (ConfigFile, CredentialsFile) {
        let mut config = ConfigFile {
            default_profile: Some("a".into()),
            ..Default::default()
        };
        let mut credentials = CredentialsFile::default();
        for (name, url, key) in [("a", "http://a", "ka"), ("b", "http://b", "kb")] {
            config.profiles.insert(
                name.into(),
                ProfileConfig {
                    api_url: Some(url.into()),
                },
            );
            credentials.profiles.insert(
                name.into(),
                ProfileCredentials {
                    api_key: Some(key.into()),
                },
            );
        }
        (config, credentials)
    }

    fn run(overrides: Overrides<'_>) -> Result<Settings> {
        let (config, credentials) = files();
        resolve(overrides, &config, &credentials, Path::new("/c"))
    }

    #[test]
    fn default_profile_applies_without_overrides() {
        let s = run(Overrides::default()).expect("resolves");
        assert_eq!((s.api_url.as_str(), s.api_key.as_str()), ("http://a", "ka"));
    }

    #[test]
    fn selected_profile_beats_default() {
        let s = run(Overrides {
            profile: Some("b"),
            ..Default::default()
        })
        .expect("resolves");
        assert_eq!((s.api_url.as_str(), s.api_key.as_str()), ("http://b", "kb"));
    }

    #[test]
    fn flags_beat_profiles() {
        let s = run(Overrides {
            profile: Some("b"),
            api_url: Some("http://flag"),
            api_key: Some("kf"),
            ..Default::default()
        })
        .expect("resolves");
        assert_eq!(
            (s.api_url.as_str(), s.api_key.as_str()),
            ("http://flag", "kf")
        );
    }

    #[test]
    fn sources_say_where_each_setting_came_from() {
        let s = run(Overrides {
            api_key: Some("kf"),
            api_key_origin: Origin::Env,
            ..Default::default()
        })
        .expect("resolves");
        assert_eq!(s.profile_source, "default_profile in config.toml");
        assert_eq!(s.url_source, "profile `a`");
        assert_eq!(s.key_source, "env var FLEET_API_KEY");
        let s = run(Overrides {
            profile: Some("b"),
            api_url: Some("http://flag"),
            ..Default::default()
        })
        .expect("resolves");
        assert_eq!(s.profile_source, "flag --profile");
        assert_eq!(s.url_source, "flag --api-url");
        assert_eq!(s.key_source, "profile `b`");
    }

    #[test]
    fn unknown_profile_is_a_usage_error_listing_profiles() {
        let err = run(Overrides {
            profile: Some("nope"),
            ..Default::default()
        })
        .expect_err("should fail");
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.hints.iter().any(|h| h.contains("a, b")),
            "{:?}",
            err.hints
        );
    }

    #[test]
    fn nothing_configured_says_how_to_start() {
        let err = resolve(
            Overrides::default(),
            &ConfigFile::default(),
            &CredentialsFile::default(),
            Path::new("/c"),
        )
        .expect_err("should fail");
        assert_eq!(err.exit_code(), 2);
        assert!(err.hints.iter().any(|h| h.contains("fleet server")));
        let err = resolve(
            Overrides {
                api_url: Some("http://x"),
                ..Default::default()
            },
            &ConfigFile::default(),
            &CredentialsFile::default(),
            Path::new("/c"),
        )
        .expect_err("should fail");
        assert_eq!(err.exit_code(), 4);
    }
}
