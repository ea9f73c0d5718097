//! `fleet server`: run the fleet service on this machine, on an embedded SQLite database or a
//! PostgreSQL server (`--database-url`).

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio::net::TcpListener;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::server::{
    BlobStore, Database, DatabaseUrlError, DeviceDownloads, DeviceTls, OpenFailure, Server,
    ServerConfig, Storage, TransportConfig,
};

/// File in the data dir that receives the bootstrapped admin key with `--no-profile`.
const KEY_FILE: &str = "admin-api-key";
use super::server_profile::{self, BOOTSTRAP_PROFILE};

/// Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL
/// with `--database-url`.
///
/// On the first start with an empty data directory it creates organization `default` and an
/// admin API key, prints the key once, and saves it as profile `local` so the next `fleet`
/// command works; when `local` already exists (another server's), as `local-<PORT>` instead.
/// On every start it warns about profiles pointing at this address whose key this data
/// directory does not know. Logs go to stderr; set `FLEET_LOG` (or `RUST_LOG`), e.g. `FLEET_LOG=debug`.
/// Stops gracefully on Ctrl-C or SIGTERM.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = "Examples:\n  \
    fleet server\n  \
    fleet server api-key create --data-dir /var/lib/fleet --role admin\n  \
    fleet server --listen 0.0.0.0:4040 --data-dir /var/lib/fleet --no-profile\n  \
    FLEET_DATABASE_URL=postgres://fleet:PASSWORD@db.internal/fleet fleet server\n  \
    fleet server migrate --from sqlite:/var/lib/fleet --to postgres://db/fleet")]
pub struct ServerArgs {
    /// Address and port to listen on
    #[arg(
        long,
        env = "FLEET_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:4040"
    )]
    pub listen: SocketAddr,

    /// Directory for the database and the local blob store [default: the platform data
    /// directory, e.g. ~/.local/share/fleet]
    #[arg(long, env = "FLEET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseFlag,

    /// Do not save a new admin key as a profile; write it to <DIR>/admin-api-key (mode 0600)
    #[arg(long)]
    pub no_profile: bool,

    /// Invalid API keys one client address may present per minute; after that its invalid
    /// keys get 429 until the minute is over (valid keys keep working)
    #[arg(
        long,
        env = "FLEET_AUTH_FAILURES_PER_MINUTE",
        value_name = "N",
        default_value_t = crate::server::DEFAULT_AUTH_FAILURES_PER_MINUTE,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub auth_failures_per_minute: u32,

    /// Abandon an unfinished firmware upload after it saw no activity for this long (its parts
    /// are deleted), e.g. 24h, 90m; the same sweep deletes orphaned part files
    #[arg(
        long,
        env = "FLEET_UPLOAD_EXPIRY",
        value_name = "DURATION",
        default_value = "24h",
        value_parser = parse_upload_expiry
    )]
    pub upload_expiry: std::time::Duration,
    /// Connections served at once; when all are taken, the longest-idle one is closed to make
    /// room [default: 10000, lowered to fit the open-file limit]
    #[arg(long, env = "FLEET_MAX_CONNECTIONS", value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,

    /// Time a client has to send a complete request head (request line and headers), counted
    /// from the connection opening or the previous response; then the connection is closed
    #[arg(long, env = "FLEET_HEADER_TIMEOUT", value_name = "DURATION", default_value = "10s",
        value_parser = parse_timeout)]
    pub header_timeout: Duration,

    /// Time a request body may go without any data arriving; then the request gets 408
    #[arg(long, env = "FLEET_BODY_TIMEOUT", value_name = "DURATION", default_value = "30s",
        value_parser = parse_timeout)]
    pub body_timeout: Duration,

    /// Time a connection may sit with nothing read or written while no request is being
    /// handled (idle keep-alive, a client that stopped reading); then it is closed
    #[arg(long, env = "FLEET_IDLE_TIMEOUT", value_name = "DURATION", default_value = "60s",
        value_parser = parse_timeout)]
    pub idle_timeout: Duration,

    /// A reverse proxy (CIDR range or address) whose X-Forwarded-For names the client, for
    /// brute-force protection; repeatable. From other peers the header is ignored
    #[arg(long = "trusted-proxy", env = "FLEET_TRUSTED_PROXIES", value_name = "CIDR",
        value_delimiter = ',', value_parser = crate::server::parse_trusted_proxy)]
    pub trusted_proxies: Vec<crate::server::IpNet>,

    /// Address and port of the device API (mutual TLS: devices present X.509 client
    /// certificates); without it the service has no device listener
    #[arg(long, env = "FLEET_DEVICE_LISTEN", value_name = "ADDR")]
    pub device_listen: Option<SocketAddr>,

    /// The device API's server certificate (PEM, chain after it) [default: a self-signed one
    /// generated into the data directory on first start, device-tls.pem]
    #[arg(
        long,
        env = "FLEET_DEVICE_TLS_CERT",
        value_name = "FILE",
        requires = "device_tls_key"
    )]
    pub device_tls_cert: Option<PathBuf>,

    /// The private key of --device-tls-cert (PEM)
    #[arg(
        long,
        env = "FLEET_DEVICE_TLS_KEY",
        value_name = "FILE",
        requires = "device_tls_cert"
    )]
    pub device_tls_key: Option<PathBuf>,

    /// How often devices are told to check in (each check-in's answer says so), 10s to 1d;
    /// a device counts as online while its last check-in is at most 2 intervals old
    #[arg(long, env = "FLEET_CHECK_IN_INTERVAL", value_name = "DURATION", default_value = "5m",
        value_parser = parse_check_in_interval)]
    pub check_in_interval: Duration,

    /// How long a device's connection stays open waiting for its next request, 10s to 1d.
    /// Devices have proven who they are (mutual TLS) before this applies, so it replaces
    /// --header-timeout and --idle-timeout there; --max-connections still bounds how many are
    /// kept [default: the check-in interval + 1m, so a device checking in on time reuses its
    /// connection instead of a full TLS handshake]
    #[arg(long, env = "FLEET_DEVICE_KEEP_ALIVE", value_name = "DURATION",
        value_parser = parse_check_in_interval)]
    pub device_keep_alive: Option<Duration>,

    /// How devices download offered firmware: through the device API, or (with an S3 blob
    /// store) from a short-lived presigned URL of the bucket, so the bytes do not pass through
    /// the service; binaries copied from a local blob store by `fleet server migrate` are kept
    /// as several part objects and still download through the device API
    #[arg(long, env = "FLEET_DEVICE_DOWNLOADS", value_name = "MODE", value_enum,
        default_value_t = DownloadsMode::Proxy)]
    pub device_downloads: DownloadsMode,

    /// How long a presigned download URL works, 1m to 24h (with --device-downloads presigned);
    /// a device that starts later checks in again for a fresh one
    #[arg(long, env = "FLEET_PRESIGNED_URL_TTL", value_name = "DURATION", default_value = "15m",
        value_parser = parse_presigned_url_ttl)]
    pub presigned_url_ttl: Duration,

    #[command(flatten)]
    pub blobs: super::server_blobs::BlobStoreArgs,

    #[command(subcommand)]
    pub command: Option<super::server_keys::ServerCommand>,
}

/// `--device-downloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DownloadsMode {
    /// Devices download through the device API, which streams from the blob store
    Proxy,
    /// Devices download from presigned URLs of the S3 bucket
    Presigned,
}

pub fn run(ctx: &Context, args: ServerArgs) -> Result<()> {
    if let Some(command) = args.command {
        return super::server_keys::run(ctx, command);
    }
    init_logging(ctx);
    let data_dir = data_dir_or_default(args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    let mut config = ServerConfig::new(&data_dir);
    config.database = args.database.database()?;
    config.blob_store = args.blobs.blob_store()?;
    config.device_downloads = device_downloads(
        args.device_downloads,
        args.presigned_url_ttl,
        &config.blob_store,
    )?;
    config.auth_failures_per_minute = args.auth_failures_per_minute;
    config.upload_expiry = args.upload_expiry;
    config.check_in_interval = args.check_in_interval;
    config.device_keep_alive = args.device_keep_alive;
    config.transport = TransportConfig {
        max_connections: args
            .max_connections
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        idle_timeout: args.idle_timeout,
        trusted_proxies: args.trusted_proxies,
        keep_alive: None,
    };
    if args.device_listen.is_some() {
        config.device_tls = Some(match (args.device_tls_cert, args.device_tls_key) {
            (Some(cert), Some(key)) => DeviceTls::Files { cert, key },
            _ => DeviceTls::SelfSigned,
        });
    }
    let listen = Listen {
        admin: args.listen,
        devices: args.device_listen,
    };
    runtime.block_on(serve(ctx, listen, config, args.no_profile))
}

/// The addresses `fleet server` listens on.
struct Listen {
    admin: SocketAddr,
    devices: Option<SocketAddr>,
}

async fn serve(
    ctx: &Context,
    listen: Listen,
    config: ServerConfig,
    no_profile: bool,
) -> Result<()> {
    let data_dir = config.data_dir.clone();
    let storage = config.storage();
    // Bind before opening the database, so a busy port does not use up the one-time bootstrap.
    let listener = TcpListener::bind(listen.admin)
        .await
        .map_err(|err| bind_error(listen.admin, err))?;
    let local = listener.local_addr().unwrap_or(listen.admin);
    let device_listener = match listen.devices {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|err| bind_error(addr, err).hint("pick another with --device-listen"))?,
        ),
        None => None,
    };
    let (server, new_key) = Server::open(config)
        .await
        .map_err(|err| open_database_error(&storage, err))?;
    let url = api_url(local);
    let saved_as = match new_key {
        Some(key) => hand_over_key(ctx, &key, &url, local.port(), &data_dir, no_profile)?,
        None => None,
    };
    warn_about_stale_profiles(ctx, &server, &url, &storage, saved_as.as_deref()).await;
    let place = match &storage.database {
        Database::Sqlite => format!("data in `{}`", data_dir.display()),
        Database::Postgres { .. } => format!(
            "database {}, files in `{}`",
            storage.describe_database(),
            data_dir.display()
        ),
    };
    ctx.printer.status(&format!(
        "fleet service listening on {} ({place}); Ctrl-C stops it",
        api_url(local),
    ));
    if let Some(devices) = &device_listener {
        let addr = devices
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        let fingerprint = server.device_tls_fingerprint().unwrap_or("?");
        let generated = if server.device_tls_generated() {
            " (self-signed, generated now)"
        } else {
            ""
        };
        tracing::info!(address = %addr, fingerprint, "device API listening");
        ctx.printer.status(&format!(
            "device API (mutual TLS) listening on {addr}; server certificate SHA-256 \
             {fingerprint}{generated}"
        ));
    }
    server
        .serve_with_devices(listener, device_listener, shutdown_signal())
        .await
        .map_err(|err| Error::failure("the fleet service failed").with_source(err))?;
    ctx.printer.status("fleet service stopped");
    Ok(())
}

/// `--data-dir`, else the platform data directory (e.g. ~/.local/share/fleet): the one rule for
/// `fleet server` and `fleet server api-key create`, so both find the same database.
pub fn data_dir_or_default(flag: Option<PathBuf>) -> Result<PathBuf> {
    match flag {
        Some(dir) => Ok(dir),
        None => directories::ProjectDirs::from("", "", "fleet")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or_else(|| {
                Error::usage("could not determine a data directory for this platform")
                    .hint("pass --data-dir DIR")
            }),
    }
}

/// The URL clients use: an unspecified listen address (0.0.0.0) is reached via loopback.
fn api_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Shows the new admin key once and stores it: as a new profile (`local`, or `local-<PORT>`
/// when `local` exists), or in the data dir with `--no-profile` (also the fallback when the
/// profile cannot be written, so the key is never lost). Returns the profile's name if saved.
fn hand_over_key(
    ctx: &Context,
    key: &str,
    url: &str,
    port: u16,
    data_dir: &Path,
    no_profile: bool,
) -> Result<Option<String>> {
    ctx.printer.status(&format!(
        "created organization `default` and its admin API key (shown only this once):\n  {key}"
    ));
    if !no_profile {
        match server_profile::save_bootstrap(&ctx.config_dir, url, port, key) {
            Ok((name, saved)) => {
                let default = if saved.became_default {
                    ", now the default profile"
                } else {
                    ""
                };
                if name != BOOTSTRAP_PROFILE {
                    ctx.printer.status(&format!(
                        "profile `{BOOTSTRAP_PROFILE}` already exists and was left as it is"
                    ));
                }
                ctx.printer.status(&format!(
                    "saved it as profile `{name}`{default} ({} and {})",
                    saved.config_path.display(),
                    saved.credentials_path.display()
                ));
                if !saved.became_default {
                    ctx.printer.hint(&format!(
                        "use it with `fleet --profile {name} ...` or `fleet profile use {name}`"
                    ));
                }
                return Ok(Some(name));
            }
            Err(err) => ctx
                .printer
                .warn(&format!("could not save the key as a profile: {err}")),
        }
    }
    let path = write_key_file(data_dir, key)?;
    ctx.printer.status(&format!(
        "wrote the key to `{}` (readable only by you)",
        path.display()
    ));
    ctx.printer.hint(&format!(
        "add a profile with `fleet profile add {BOOTSTRAP_PROFILE} --api-url {url} --api-key-stdin < {}`",
        path.display()
    ));
    Ok(None)
}

/// Warns about each profile that points at `url` but whose key this data dir does not accept
/// (a key of another data dir, or a revoked one): commands using it would get 401. Only a
/// warning: the service serves either way, and the config files are left alone.
async fn warn_about_stale_profiles(
    ctx: &Context,
    server: &Server,
    url: &str,
    storage: &Storage,
    just_saved: Option<&str>,
) {
    let profiles = match server_profile::profiles_at(&ctx.config_dir, url) {
        Ok(profiles) => profiles,
        Err(err) => {
            ctx.printer
                .warn(&format!("could not check the saved profiles: {err}"));
            return;
        }
    };
    for profile in profiles {
        if Some(profile.name.as_str()) == just_saved {
            continue;
        }
        match server.accepts_key(&profile.api_key).await {
            Ok(true) => {}
            Ok(false) => {
                let (data, other, create) = match &storage.database {
                    Database::Sqlite => (
                        format!("the data in `{}`", storage.data_dir.display()),
                        "--data-dir",
                        format!("--data-dir {}", storage.data_dir.display()),
                    ),
                    Database::Postgres { .. } => (
                        format!("the database {}", storage.describe_database()),
                        "--database-url",
                        "--database-url URL".to_owned(),
                    ),
                };
                ctx.printer.warn(&format!(
                    "profile `{}` points at {url}, but its API key is not a valid key of {data}",
                    profile.name,
                ));
                ctx.printer.hint(&format!(
                    "was the key made by a server with another {other}? Start that one, or make a key here with \
                     `fleet server api-key create {create} --role admin` and store it with \
                     `fleet profile add {} --api-url {url} --api-key-stdin --force`",
                    profile.name
                ));
            }
            Err(err) => ctx.printer.warn(&format!(
                "could not check the key of profile `{}`: {err}",
                profile.name
            )),
        }
    }
}

/// Writes `<data_dir>/admin-api-key` atomically; the temporary file is created 0600.
fn write_key_file(data_dir: &Path, key: &str) -> Result<PathBuf> {
    use std::io::Write as _;
    let path = data_dir.join(KEY_FILE);
    let fail = |err: io::Error| crate::error::io_error("write", &path, err);
    let mut file = tempfile::NamedTempFile::new_in(data_dir).map_err(fail)?;
    file.write_all(format!("{key}\n").as_bytes())
        .map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(&path).map_err(|err| fail(err.error))?;
    Ok(path)
}

fn bind_error(addr: SocketAddr, err: io::Error) -> Error {
    let message = format!("could not listen on {addr}");
    let error = match err.kind() {
        io::ErrorKind::AddrInUse => Error::failure(message).hint(format!(
            "port {} is in use (another `fleet server`?); stop it or pick another with --listen 127.0.0.1:{}",
            addr.port(),
            addr.port().wrapping_add(1)
        )),
        io::ErrorKind::PermissionDenied => Error::failure(message)
            .hint("ports below 1024 need privileges; use a higher port with --listen"),
        io::ErrorKind::AddrNotAvailable => Error::new(ErrorKind::Usage, message)
            .hint("that address is not on this machine; try --listen 127.0.0.1:4040"),
        _ => Error::failure(message),
    };
    error.with_source(err)
}

/// `--database-url`, shared by `fleet server` and `fleet server api-key create`, so both
/// open the same database.
#[derive(Debug, Args)]
pub struct DatabaseFlag {
    /// PostgreSQL database for the service's state, e.g.
    /// postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one
    /// [default: SQLite, fleet.db in the data directory]
    #[arg(
        long = "database-url",
        env = "FLEET_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub url: Option<String>,
}

impl DatabaseFlag {
    /// The database the flag names; checked here rather than by clap, whose errors would
    /// repeat the value, password and all.
    pub fn database(&self) -> Result<Database> {
        match self.url.as_deref() {
            None | Some("") => Ok(Database::Sqlite),
            Some(url) => database_from_url(url, "--database-url"),
        }
    }
}

/// The PostgreSQL database `url` names, or a usage error for `flag` that hides the password.
pub fn database_from_url(url: &str, flag: &str) -> Result<Database> {
    crate::server::parse_database_url(url).map_err(|err| {
        let hint = match &err {
            DatabaseUrlError::UnknownScheme { scheme } if scheme.starts_with("sqlite") => {
                "SQLite is the default: leave out --database-url and the service uses fleet.db in \
                 its --data-dir"
                    .to_owned()
            }
            _ => "use postgres://USER:PASSWORD@HOST:PORT/DATABASE".to_owned(),
        };
        Error::usage(format!("invalid value for {flag}: {err}")).hint(hint)
    })
}

/// Why `storage`'s database did not open, with the exit code and hint the cause calls for.
pub fn open_database_error(storage: &Storage, err: anyhow::Error) -> Error {
    let Database::Postgres { .. } = storage.database else {
        return Error::failure(format!(
            "could not open the fleet service's storage (data dir `{}`)",
            storage.data_dir.display()
        ))
        .with_source(err);
    };
    let message = format!(
        "could not open the PostgreSQL database {}",
        storage.describe_database()
    );
    let error = match crate::server::open_failure(&err) {
        OpenFailure::Unreachable => Error::new(ErrorKind::Unavailable, message).hint(
            "is PostgreSQL running, and are the host and port in the URL right? \
             `pg_isready -h HOST -p PORT` checks",
        ),
        OpenFailure::Refused => Error::new(ErrorKind::Auth, message).hint(
            "check the user name and password in the URL, and that the user may create \
             tables in that database",
        ),
        OpenFailure::Misconfigured => Error::usage(message)
            .hint("check the database name in the URL; create it first with `createdb NAME`"),
        OpenFailure::Other => Error::failure(format!(
            "could not open the fleet service's storage (database {})",
            storage.describe_database()
        )),
    };
    error.with_source(err)
}

/// A positive duration such as `24h` or `90m`.
fn parse_upload_expiry(text: &str) -> std::result::Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|err| err.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero, e.g. 24h".to_owned());
    }
    Ok(duration)
}

/// Logs to stderr; the filter comes from `FLEET_LOG`, else `RUST_LOG`, else `info`.
fn init_logging(ctx: &Context) {
    use tracing_subscriber::EnvFilter;
    let spec = std::env::var("FLEET_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|err| {
        ctx.printer
            .warn(&format!("ignoring the log filter `{spec}`: {err}"));
        EnvFilter::new("info")
    });
    let ansi = io::IsTerminal::is_terminal(&io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Fails only when a subscriber is already installed, e.g. by an embedding test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// A timeout flag's value: a duration such as `10s` or `2m`, not zero.
fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    let duration = super::api_key::parse_duration(text)?;
    if duration.is_zero() {
        return Err("a timeout of zero would close every connection at once; use e.g. 10s".into());
    }
    Ok(duration)
}

/// What `--device-downloads` and `--presigned-url-ttl` ask for; presigned URLs need a bucket.
fn device_downloads(
    mode: DownloadsMode,
    ttl: Duration,
    blob_store: &BlobStore,
) -> Result<DeviceDownloads> {
    match mode {
        DownloadsMode::Proxy => Ok(DeviceDownloads::Proxy),
        DownloadsMode::Presigned if *blob_store == BlobStore::Local => Err(Error::usage(
            "--device-downloads presigned needs an S3 blob store: firmware in the local blob \
             directory has no URL a device could fetch",
        )
        .hint(
            "keep firmware in a bucket with --blob-store s3://BUCKET[/PREFIX], or let devices \
             download through the device API with --device-downloads proxy",
        )),
        DownloadsMode::Presigned => Ok(DeviceDownloads::Presigned { ttl }),
    }
}

/// The shortest and longest `--presigned-url-ttl`: shorter would expire before a device on a
/// slow link starts its download; longer would keep a withdrawn offer (quarantine, a lowered
/// rollout) fetchable for more than a day.
const PRESIGNED_URL_TTLS: (Duration, Duration) =
    (Duration::from_secs(60), Duration::from_secs(24 * 60 * 60));

/// A presigned URL's life within [`PRESIGNED_URL_TTLS`], e.g. `15m`.
fn parse_presigned_url_ttl(text: &str) -> std::result::Result<Duration, String> {
    let duration = super::api_key::parse_duration(text)?;
    let (shortest, longest) = PRESIGNED_URL_TTLS;
    if duration < shortest || duration > longest {
        return Err(format!(
            "must be from {} to {}, e.g. 15m",
            humantime::format_duration(shortest),
            humantime::format_duration(longest)
        ));
    }
    Ok(duration)
}

/// The shortest and longest `--check-in-interval`: shorter would have a fleet hammer the
/// service, longer would leave an offered update (or a quarantine) waiting for over a day.
const CHECK_IN_INTERVALS: (Duration, Duration) =
    (Duration::from_secs(10), Duration::from_secs(24 * 60 * 60));

/// A check-in interval within [`CHECK_IN_INTERVALS`], e.g. `5m`.
fn parse_check_in_interval(text: &str) -> std::result::Result<Duration, String> {
    let duration = super::api_key::parse_duration(text)?;
    let (shortest, longest) = CHECK_IN_INTERVALS;
    if duration < shortest || duration > longest {
        return Err(format!(
            "must be from {} to {}, e.g. 5m",
            humantime::format_duration(shortest),
            humantime::format_duration(longest)
        ));
    }
    Ok(duration)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
