//! Where the config directory is, as a pure function of the flag and an environment snapshot so
//! every case can be unit-tested without touching the real environment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The parts of the environment that decide the config directory.
#[derive(Debug, Clone, Default)]
pub struct PathEnv {
    pub xdg_config_home: Option<OsString>,
    /// The platform's config directory (`directories`), e.g. `~/.config` or
    /// `~/Library/Application Support`.
    pub platform_config_dir: Option<PathBuf>,
}

impl PathEnv {
    /// Reads the real environment.
    pub fn from_process() -> Self {
        PathEnv {
            xdg_config_home: std::env::var_os("XDG_CONFIG_HOME"),
            platform_config_dir: directories::BaseDirs::new().map(|d| d.config_dir().to_owned()),
        }
    }
}

/// `--config-dir` / `FLEET_CONFIG_DIR` (merged by clap) > `$XDG_CONFIG_HOME/fleet` >
/// the platform config dir + `fleet`. `None` when none of them is usable.
pub fn config_dir_from(flag: Option<&Path>, env: &PathEnv) -> Option<PathBuf> {
    if let Some(dir) = flag.filter(|d| !d.as_os_str().is_empty()) {
        return Some(dir.to_owned());
    }
    // The XDG spec says to ignore relative values.
    if let Some(xdg) = env
        .xdg_config_home
        .as_ref()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Some(xdg.join("fleet"));
    }
    env.platform_config_dir.as_ref().map(|d| d.join("fleet"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(xdg: Option<&str>, platform: Option<&str>) -> PathEnv {
        PathEnv {
            xdg_config_home: xdg.map(OsString::from),
            platform_config_dir: platform.map(PathBuf::from),
        }
    }

    #[test]
    fn flag_wins_over_everything() {
        let got = config_dir_from(Some(Path::new("/f")), &env(Some("/x"), Some("/p")));
        assert_eq!(got, Some(PathBuf::from("/f")));
    }

    #[test]
    fn xdg_wins_over_platform_dir() {
        let got = config_dir_from(None, &env(Some("/x"), Some("/p")));
        assert_eq!(got, Some(PathBuf::from("/x/fleet")));
    }

    #[test]
    fn relative_or_empty_xdg_is_ignored() {
        assert_eq!(
            config_dir_from(None, &env(Some("rel"), Some("/p"))),
            Some(PathBuf::from("/p/fleet"))
        );
        assert_eq!(
            config_dir_from(Some(Path::new("")), &env(Some(""), Some("/p"))),
            Some(PathBuf::from("/p/fleet"))
        );
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(config_dir_from(None, &env(None, None)), None);
    }
}
