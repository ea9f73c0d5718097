//! What every command receives: the global options, the resolved config directory, the printer,
//! and an API client built on first use (so local-only commands never need a service).

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::client::ApiClient;
use crate::config::{self, Overrides, Settings};
use crate::error::Result;
use crate::output::Printer;

/// The global flags that commands act on (output ones go to the [`Printer`] instead). Each was
/// given as a flag or its `FLEET_*` variable, or is unset.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub profile: Option<String>,
    pub api_url: Option<String>,
    pub api_key: Option<String>,
    /// Answer yes to confirmations.
    pub yes: bool,
    /// Never prompt.
    pub no_input: bool,
    pub config_dir: Option<PathBuf>,
}

pub struct Context {
    pub options: Options,
    pub config_dir: PathBuf,
    pub printer: Printer,
    client: OnceLock<ApiClient>,
}

impl Context {
    pub fn new(options: Options, printer: Printer) -> Result<Self> {
        let config_dir = config::resolve_config_dir(options.config_dir.as_deref())?;
        Ok(Context {
            options,
            config_dir,
            printer,
            client: OnceLock::new(),
        })
    }

    /// The URL and key this command would use, by flag > env var > selected profile > default
    /// profile. Warns when the credentials file is readable by others.
    pub fn settings(&self) -> Result<Settings> {
        let config = config::load_config(&self.config_dir)?;
        let (credentials, warning) = config::load_credentials(&self.config_dir)?;
        if let Some(warning) = warning {
            self.printer.warn(&warning);
        }
        config::resolve(
            Overrides {
                profile: self.options.profile.as_deref(),
                api_url: self.options.api_url.as_deref(),
                api_key: self.options.api_key.as_deref(),
                profile_origin: config::origin(self.options.profile.as_deref(), "FLEET_PROFILE"),
                api_url_origin: config::origin(self.options.api_url.as_deref(), "FLEET_API_URL"),
                api_key_origin: config::origin(self.options.api_key.as_deref(), "FLEET_API_KEY"),
            },
            &config,
            &credentials,
            &self.config_dir,
        )
    }

    /// The API client for the resolved settings, built once.
    pub fn client(&self) -> Result<&ApiClient> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let settings = self.settings()?;
        let client = ApiClient::build(&settings.api_url, &settings.api_key, settings.key_source)?;
        Ok(self.client.get_or_init(|| client))
    }
}
