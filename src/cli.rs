//! The root of the clap command tree: global flags and the top-level nouns. No logic lives here;
//! help text, completions and man pages are all generated from these types.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::output::{ColorChoice, OutputFormat};

/// Administer fleets of embedded devices: products, cohorts and devices, and the fleet service.
#[derive(Debug, Parser)]
#[command(
    name = "fleet",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Start a local service with `fleet server`, then try\n\
                  `fleet product create indoor-sensor`.\n\
                  Docs: `fleet help <command>`, `man fleet`, and README.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command. Each has a `FLEET_*` environment variable; a flag wins over
/// its variable, which wins over the selected profile.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Profile to use from config.toml (default: the config's `default_profile`)
    #[arg(long, global = true, env = "FLEET_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Base URL of the fleet service, e.g. http://127.0.0.1:4040
    #[arg(long, global = true, env = "FLEET_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// API key (prefer the env var or a profile: flags show up in shell history)
    #[arg(
        long,
        global = true,
        env = "FLEET_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,

    /// Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs
    #[arg(
        short = 'o',
        long,
        global = true,
        env = "FLEET_OUTPUT",
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,

    /// When to use colour on stderr and tables (never when NO_COLOR is set)
    #[arg(long, global = true, env = "FLEET_COLOR", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only data and errors: no status lines, hints or progress
    #[arg(
        short,
        long,
        global = true,
        env = "FLEET_QUIET",
        value_parser = BoolishValueParser::new(),
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    /// Print more about what is happening (requests, timings)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Answer yes to confirmations (needed for destructive commands without a terminal)
    #[arg(short = 'y', long, global = true, env = "FLEET_YES", value_parser = BoolishValueParser::new())]
    pub yes: bool,

    /// Never prompt; fail instead when input would be needed
    #[arg(long, global = true, env = "FLEET_NO_INPUT", value_parser = BoolishValueParser::new())]
    pub no_input: bool,

    /// Directory holding config.toml and credentials.toml
    #[arg(long, global = true, env = "FLEET_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage products: the device types of your organization
    #[command(subcommand)]
    Product(commands::product::ProductCommand),
    /// Manage cohorts: groups of devices within a product
    #[command(subcommand)]
    Cohort(commands::cohort::CohortCommand),
    /// Manage devices
    #[command(subcommand)]
    Device(commands::device::DeviceCommand),
    /// Manage configurations of products, cohorts and devices
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Manage the CAs whose certificates admit a product's devices
    #[command(subcommand)]
    Ca(commands::ca::CaCommand),
    /// Manage API keys: roles, product scopes, expiry, revocation
    #[command(subcommand)]
    ApiKey(commands::api_key::ApiKeyCommand),
    /// Read the audit log: every write and refused request
    #[command(subcommand)]
    Event(commands::event::EventCommand),
    /// Push, list, show, pull and abandon firmware binaries
    #[command(subcommand)]
    Firmware(commands::firmware::FirmwareCommand),
    /// Manage Ed25519 keys that sign firmware
    #[command(subcommand)]
    SigningKey(commands::signing_key::SigningKeyCommand),
    /// Manage bundles: ordered sets of a product's binaries
    #[command(subcommand)]
    Bundle(commands::bundle::BundleCommand),
    /// Manage releases: bundles rolled out to cohorts
    #[command(subcommand)]
    Release(commands::release::ReleaseCommand),
    /// Run simulated devices against the device API: check-ins, updates, reports
    Simulate(commands::simulate::SimulateArgs),
    /// Show the profile, URL and API key in effect and where each came from
    Whoami(commands::whoami::WhoamiArgs),
    /// Manage connection profiles (service URL + API key)
    #[command(subcommand)]
    Profile(commands::profile::ProfileCommand),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
    // Help comes from `ServerArgs`' own doc comment, which is longer than one line here could be.
    #[cfg(feature = "server")]
    Server(Box<commands::server::ServerArgs>),
}
