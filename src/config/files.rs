//! Reading and editing `config.toml` and `credentials.toml`. Reads go through serde; edits go
//! through `toml_edit` so the user's comments and layout survive, and every write is atomic
//! (a temp file in the same directory, renamed over the old one).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml_edit::DocumentMut;

use crate::error::{Error, Result, io_error};

pub const CONFIG_FILE: &str = "config.toml";
pub const CREDENTIALS_FILE: &str = "credentials.toml";

/// `config.toml`: `default_profile = "x"` and `[profiles.<name>] api_url = "…"`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileConfig {
    pub api_url: Option<String>,
}

/// `credentials.toml`: `[profiles.<name>] api_key = "…"`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CredentialsFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileCredentials>,
}

#[derive(Clone, Default, Deserialize)]
pub struct ProfileCredentials {
    pub api_key: Option<String>,
}

// Keys must never end up in logs or debug output.
impl std::fmt::Debug for ProfileCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileCredentials")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(io_error("read", path, err)),
    }
}

fn parse<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    let Some(text) = read_optional(path)? else {
        return Ok(T::default());
    };
    toml::from_str(&text).map_err(|err| {
        Error::usage(format!("could not parse `{}`", path.display()))
            .with_source(err)
            .hint("fix the file by hand, or remove it and add the profile again")
    })
}

pub fn load_config(dir: &Path) -> Result<ConfigFile> {
    parse(&dir.join(CONFIG_FILE))
}

/// Reads the credentials and, on Unix, returns a warning when others can read the file.
pub fn load_credentials(dir: &Path) -> Result<(CredentialsFile, Option<String>)> {
    let path = dir.join(CREDENTIALS_FILE);
    let credentials = parse(&path)?;
    Ok((credentials, permission_warning(&path)))
}

#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "`{}` is readable by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path) -> Option<String> {
    None
}

/// Applies `edit` to the file's TOML document (empty when the file does not exist yet) and
/// writes the result atomically. `secret` files are created readable by the owner only.
pub fn edit(
    dir: &Path,
    file: &str,
    secret: bool,
    edit: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<PathBuf> {
    let path = dir.join(file);
    let mut doc = match read_optional(&path)? {
        Some(text) => text.parse::<DocumentMut>().map_err(|err| {
            Error::usage(format!("could not parse `{}`", path.display())).with_source(err)
        })?,
        None => DocumentMut::new(),
    };
    edit(&mut doc)?;
    write_atomic(dir, &path, doc.to_string().as_bytes(), secret)?;
    Ok(path)
}

fn create_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|err| io_error("create the config directory", dir, err))
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    create_dir(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".fleet-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Set on creation, so the secret is never on disk with wider permissions.
        let mode = if secret { 0o600 } else { 0o644 };
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|err| io_error("create a temporary file in", dir, err))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|err| io_error("write", tmp.path(), err))?;
    tmp.persist(path)
        .map_err(|err| io_error("replace", path, err.error))?;
    Ok(())
}

/// The `[profiles.<name>]` table of `doc`, created when missing.
pub fn profile_table<'a>(
    doc: &'a mut DocumentMut,
    name: &str,
) -> Result<&'a mut dyn toml_edit::TableLike> {
    let profiles = doc.entry("profiles").or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        toml_edit::Item::Table(table)
    });
    let profiles = profiles
        .as_table_like_mut()
        .ok_or_else(|| Error::usage("`profiles` in the config file is not a table"))?;
    let entry = profiles
        .entry(name)
        .or_insert(toml_edit::Item::Table(toml_edit::Table::new()));
    entry.as_table_like_mut().ok_or_else(|| {
        Error::usage(format!(
            "`profiles.{name}` in the config file is not a table"
        ))
    })
}

/// Removes `[profiles.<name>]`; true when it was there.
pub fn remove_profile(doc: &mut DocumentMut, name: &str) -> bool {
    doc.get_mut("profiles")
        .and_then(|p| p.as_table_like_mut())
        .and_then(|p| p.remove(name))
        .is_some()
}

/// Sets `key = "value"` in `table`, keeping the comments around an existing value.
pub fn set_string(table: &mut dyn toml_edit::TableLike, key: &str, value: &str) {
    match table.get_mut(key).and_then(|item| item.as_value_mut()) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = toml_edit::Value::from(value);
            *existing.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::value(value));
        }
    }
}
