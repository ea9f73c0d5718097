//! The fleet service: an HTTP API over an embedded SQLite database, or PostgreSQL and an
//! S3-compatible bucket when scaled out (`storage`). `Server::open` prepares the database
//! (migrations, first-start bootstrap); `Server::serve` answers requests until told to stop. Nothing outside `commands::server` (and tests) uses this module.

mod access;
mod auth;
mod auth_epoch;
mod authz;
mod bench;
mod blobs;
mod clock;
mod database_url;
mod device_api;
mod domain;
mod error;
mod extract;
mod handlers;
mod hex;
mod idempotency;
mod key_cache;
mod limiter;
mod migrate;
mod not_found;
mod offline;
mod openapi;
mod pagination;
mod periodic;
mod private;
mod rollout_controller;
mod router;
mod routes;
mod state;
mod storage;
mod store;
mod sweeper;
mod transport;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

pub use auth::KEY_PREFIX;
pub use blobs::s3;
pub use clock::Clock;
pub use database_url::{DatabaseUrlError, OpenFailure, open_failure, parse_database_url};
pub use device_api::{DeviceTls, FORWARDED_CERT_HEADER, SELF_SIGNED_CERT, SELF_SIGNED_KEY};
pub use domain::device_updates::links::{DEFAULT_PRESIGNED_URL_TTL, DeviceDownloads};
pub use domain::firmware::lifecycle::SweepReport;
pub use domain::firmware::rollout::Evaluation as RolloutEvaluation;
pub use idempotency::REPLAYED_HEADER;
pub use migrate::{
    BlobReport, MigrateError, Migration, MigrationReport, Place, TableReport, describe_blobs,
    migrate,
};
pub use offline::{OfflineKey, create_key_offline};
pub use pagination::SEEN_CURSOR_PATTERN;
pub use storage::{BlobStore, Database, S3Settings, Storage};
pub use store::postgres::redact as redact_database_url;
#[cfg(feature = "test-hooks")]
pub use store::write_gate::WriteGate;
pub use transport::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    IpNet, MAX_HEADER_BYTES, MAX_URI_BYTES, TransportConfig, parse_trusted_proxy,
};

/// Why `presigned` device downloads were refused, and what to do instead.
const PRESIGNED_NEEDS_S3: &str = "--device-downloads presigned needs an S3 blob store: \
    firmware in a local blob directory has no URL a device could fetch (hint: keep firmware in a \
    bucket with --blob-store s3://BUCKET[/PREFIX], or let devices download through the device \
    API with --device-downloads proxy)";

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "fleet.db";
/// Largest request body accepted by default: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest bulk request body accepted by default: 64 MiB.
pub const DEFAULT_MAX_BULK_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Invalid API keys one client address may present per minute by default.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = limiter::DEFAULT_MAX_FAILURES;
/// Firmware upload part size by default: 8 MiB.
pub const DEFAULT_PART_SIZE_BYTES: u64 = 8 * 1024 * 1024;
/// How often the rollout controller evaluates schedules by default: every 10 seconds.
pub const DEFAULT_ROLLOUT_INTERVAL: Duration = Duration::from_secs(10);
/// Unfinished firmware uploads idle longer than this are abandoned by default: 24 hours.
/// Added to the check-in interval for the device listener's default keep-alive: a device's
/// check-in may come a little late (its clock, the network, a retry) and still find its
/// connection open.
pub const DEVICE_KEEP_ALIVE_MARGIN: Duration = Duration::from_secs(60);
pub const DEFAULT_UPLOAD_EXPIRY: Duration = Duration::from_secs(24 * 3600);

pub struct ServerConfig {
    /// Holds `fleet.db` (and its WAL files) and `blobs/` unless `database` and `blob_store`
    /// say otherwise; created when missing.
    pub data_dir: PathBuf,
    /// SQLite in the data dir (default) or PostgreSQL.
    pub database: Database,
    /// `<data-dir>/blobs` (default) or an S3-compatible bucket.
    pub blob_store: BlobStore,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// The body limit of the bulk routes (`/v1/bulk/…`), which carry up to 100,000 devices.
    pub max_bulk_body_bytes: usize,
    /// Testing only: a bulk write fails inside its transaction once it touched more than this
    /// many rows, so tests can show that nothing of it survives.
    #[cfg(feature = "test-hooks")]
    pub fail_bulk_after_rows: Option<u64>,
    /// Size of firmware upload parts (the last part of a file may be shorter); the part routes
    /// take bodies up to this size. Default 8 MiB.
    pub part_size_bytes: u64,
    /// Invalid API keys one client address may present per minute before it gets 429 for the
    /// rest of that minute (brute-force protection).
    pub auth_failures_per_minute: u32,
    /// Firmware lifecycle: an unfinished upload idle for longer than this is abandoned (its
    /// row and parts deleted) by the service's periodic sweep, which also collects orphaned
    /// part objects. Default 24 hours.
    pub upload_expiry: Duration,
    /// How connections are accepted and served: connection cap, header/body/idle timeouts,
    /// trusted reverse proxies.
    pub transport: TransportConfig,
    /// Testing only: write transactions stop at this gate once they hold the write lock.
    #[cfg(feature = "test-hooks")]
    pub write_gate: Option<std::sync::Arc<WriteGate>>,
    /// The device API's server certificate; `None`: no device listener
    /// (`fleet server --device-listen`).
    pub device_tls: Option<DeviceTls>,
    /// How often devices are told to check in; a device is online while seen within two
    /// of these. Default 5 minutes.
    pub check_in_interval: Duration,
    /// How long a device's connection may wait for its next request (`fleet server
    /// --device-keep-alive`); `None`: the check-in interval and [`DEVICE_KEEP_ALIVE_MARGIN`],
    /// so a device that checks in on time reuses its connection.
    pub device_keep_alive: Option<Duration>,
    /// When the check-in writer writes its batch (every 250 ms, or at 2,000 devices).
    pub check_in_writes: domain::device_updates::writer::WriterSettings,
    /// A check-in's answer waits until its status is written (tests that read it back).
    pub wait_for_check_in_writes: bool,
    /// Where offers send devices for firmware bytes: the device API (default), or presigned
    /// URLs of the S3 blob store (refused at start with a local one).
    pub device_downloads: DeviceDownloads,
    /// Where the service takes "now" from for rollout steps and the firmware sweep: the
    /// system clock, or a manual one in tests.
    pub clock: Clock,
    /// How often the rollout controller looks for schedule steps that are due. Default 10 s.
    pub rollout_interval: Duration,
}

impl ServerConfig {
    /// Where this configuration keeps its state.
    pub fn storage(&self) -> Storage {
        Storage {
            data_dir: self.data_dir.clone(),
            database: self.database.clone(),
            blob_store: self.blob_store.clone(),
        }
    }

    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            database: Database::default(),
            blob_store: BlobStore::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_bulk_body_bytes: DEFAULT_MAX_BULK_BODY_BYTES,
            #[cfg(feature = "test-hooks")]
            fail_bulk_after_rows: None,
            part_size_bytes: DEFAULT_PART_SIZE_BYTES,
            auth_failures_per_minute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
            upload_expiry: DEFAULT_UPLOAD_EXPIRY,
            transport: TransportConfig::default(),
            #[cfg(feature = "test-hooks")]
            write_gate: None,
            device_tls: None,
            check_in_interval: domain::device_updates::DEFAULT_CHECK_IN_INTERVAL,
            device_keep_alive: None,
            check_in_writes: domain::device_updates::writer::WriterSettings::default(),
            wait_for_check_in_writes: false,
            device_downloads: DeviceDownloads::default(),
            clock: Clock::system(),
            rollout_interval: DEFAULT_ROLLOUT_INTERVAL,
        }
    }
}

pub struct Server {
    state: state::AppState,
    transport: TransportConfig,
    /// How long the device listener keeps a connection waiting for its next request.
    device_keep_alive: Duration,
    /// The device listener's TLS, when it has one.
    device_tls: Option<device_api::ServerTls>,
}

impl Server {
    /// Opens/creates the data dir and SQLite db, runs migrations, bootstraps org `default` and an
    /// admin API key on first start. Returns Some(plaintext admin key) only when it was just created.
    pub async fn open(config: ServerConfig) -> anyhow::Result<(Server, Option<String>)> {
        // Before anything is created, so a refused start does not use up the bootstrap.
        if matches!(config.device_downloads, DeviceDownloads::Presigned { .. })
            && config.blob_store == BlobStore::Local
        {
            anyhow::bail!("{PRESIGNED_NEEDS_S3}");
        }
        private::create_dir(&config.data_dir).with_context(|| {
            format!(
                "could not create the data directory `{}`",
                config.data_dir.display()
            )
        })?;
        if let Err(problems) = routes::check(&routes::all()) {
            anyhow::bail!("the route registry is unsound: {}", problems.join("; "));
        }
        let storage = config.storage();
        #[allow(unused_mut)]
        let mut pool = storage.open_database().await?;
        let key = auth::generate_key();
        let key_id = crate::api::ApiKeyId::generate();
        let created = store::orgs::bootstrap(
            &pool,
            key_id.as_str(),
            &auth::hash_key(&key),
            auth::key_prefix(&key),
        )
        .await
        .context("could not bootstrap the default organization")?;
        #[cfg(feature = "test-hooks")]
        pool.set_write_gate(config.write_gate.clone());
        let mut state = state::AppState::new(pool, config.max_body_bytes);
        state.shared_mut().clock = config.clock.clone();
        state.shared_mut().rollout_interval = config.rollout_interval;
        state.shared_mut().bulk = state::BulkLimits {
            max_body_bytes: config.max_bulk_body_bytes,
            #[cfg(feature = "test-hooks")]
            fail_after_rows: store::bulk::FailAfterRows(config.fail_bulk_after_rows),
            #[cfg(not(feature = "test-hooks"))]
            fail_after_rows: store::bulk::FailAfterRows::default(),
        };
        let blobs = storage.open_blobs()?;
        if storage.blob_store != BlobStore::Local {
            blobs.check().await.with_context(|| {
                format!(
                    "could not list the firmware bucket {} (hint: check that the bucket exists, \
                     the endpoint and region, and that the credentials may read and write it)",
                    storage.describe_blobs()
                )
            })?;
        }
        let links = domain::device_updates::links::DownloadLinks::new(
            config.device_downloads,
            blobs.clone(),
        )
        .map_err(|_| anyhow::anyhow!("{PRESIGNED_NEEDS_S3}"))?;
        if let DeviceDownloads::Presigned { ttl } = config.device_downloads {
            tracing::info!(
                ttl = %humantime::format_duration(ttl),
                "devices download single-object binaries from presigned URLs of the bucket"
            );
        }
        state.shared_mut().firmware = std::sync::Arc::new(
            domain::firmware::Firmware::new(blobs, config.part_size_bytes)
                .with_upload_expiry(config.upload_expiry),
        );
        let mut device_updates = domain::device_updates::DeviceUpdates::new(
            state.pool.clone(),
            config.check_in_writes,
            config.check_in_interval,
        );
        device_updates.wait_for_writes = config.wait_for_check_in_writes;
        device_updates.links = links;
        state.shared_mut().device_updates = std::sync::Arc::new(device_updates);
        state.shared_mut().limiter = std::sync::Arc::new(limiter::FailureLimiter::new(
            config.auth_failures_per_minute,
        ));
        let device_tls = match &config.device_tls {
            Some(tls) => Some(device_api::load(tls, &config.data_dir)?),
            None => None,
        };
        let device_keep_alive = config
            .device_keep_alive
            .unwrap_or(config.check_in_interval + DEVICE_KEEP_ALIVE_MARGIN);
        let server = Server {
            state,
            transport: config.transport,
            device_keep_alive,
            device_tls,
        };
        Ok((server, created.then_some(key)))
    }

    /// Serves HTTP on `listener` until `shutdown` resolves, then drains gracefully. The
    /// housekeeping sweep runs alongside and stops when `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.serve_with_devices(listener, None, shutdown).await
    }

    /// [`Server::serve`], and the device API (mutual TLS) on `devices` when given; that
    /// needs [`ServerConfig::device_tls`].
    pub async fn serve_with_devices(
        self,
        listener: tokio::net::TcpListener,
        devices: Option<tokio::net::TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        use futures_util::FutureExt as _;
        let device_tls = match (devices, &self.device_tls) {
            (Some(devices), Some(tls)) => Some((devices, tls.acceptor.clone())),
            (Some(_), None) => anyhow::bail!(
                "a device listener needs the device TLS settings (ServerConfig::device_tls)"
            ),
            (None, _) => None,
        };
        let app = router::build(self.state.clone());
        let shutdown = shutdown.shared();
        let service_clock = self.state.clock.clone();
        let clock: sweeper::Clock = std::sync::Arc::new(move || service_clock.now());
        let sweeper = sweeper::start(self.state.clone(), clock, shutdown.clone());
        let rollouts = rollout_controller::start(self.state.clone(), shutdown.clone());
        let epoch = auth_epoch::Follower::start(self.state.epoch.clone(), shutdown.clone());
        let writer = self.state.device_updates.writer.clone();
        let check_ins = writer.clone().start(shutdown.clone());
        let device_api = async {
            if let Some((listener, acceptor)) = device_tls {
                let app =
                    device_api::app(self.state.clone(), self.transport.trusted_proxies.clone());
                let handshake = device_api::TlsHandshake { acceptor };
                let transport = TransportConfig {
                    keep_alive: Some(self.device_keep_alive),
                    ..self.transport.clone()
                };
                transport::serve_with(listener, app, transport, handshake, shutdown.clone()).await;
            }
        };
        let admin_api = transport::serve(listener, app, self.transport.clone(), shutdown.clone());
        futures_util::future::join(admin_api, device_api).await;
        sweeper.join().await;
        rollouts.join().await;
        if let Err(err) = check_ins.await {
            tracing::warn!(error = %err, "the check-in writer failed");
        }
        // Check-ins answered while the connections drained, after the task's last batch.
        if let Err(err) = writer.flush().await {
            tracing::error!(error = %err, "could not write the last check-in statuses");
        }
        epoch.join().await;
        self.state.pool.close().await;
        Ok(())
    }

    /// `app` on `listener` alone (no sweep, no device API): the benchmark server's.
    async fn serve_app(
        self,
        app: axum::Router,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let pool = self.state.pool.clone();
        transport::serve(listener, app, self.transport, shutdown).await;
        pool.close().await;
        Ok(())
    }

    /// Lowercase hex SHA-256 of the device listener's server certificate, for devices to pin;
    /// `None` without device TLS settings.
    pub fn device_tls_fingerprint(&self) -> Option<&str> {
        self.device_tls.as_ref().map(|tls| tls.fingerprint.as_str())
    }

    /// Whether this start generated the self-signed device certificate.
    pub fn device_tls_generated(&self) -> bool {
        self.device_tls.as_ref().is_some_and(|tls| tls.generated)
    }

    /// Whether `key` is a usable API key of this data dir (present, not revoked, not expired).
    /// The database holds only key hashes, so this is how `fleet server` tells whether a saved
    /// profile's key belongs to the data it serves.
    pub async fn accepts_key(&self, key: &str) -> anyhow::Result<bool> {
        let row = store::api_keys::find_by_hash(&self.state.pool, &auth::hash_key(key)).await?;
        let now = store::now();
        Ok(row.is_some_and(|row| {
            row.revoked_at.is_none() && row.expires_at.is_none_or(|expires| expires > now)
        }))
    }

    /// The OpenAPI document the service serves at `/v1/openapi.json`.
    pub fn openapi_json() -> anyhow::Result<String> {
        Ok(openapi::document().to_pretty_json()?)
    }
}

/// Runs the firmware sweep of the service once, at time `now`, on the database and blobs
/// of `storage` (a data dir converts into its local storage): abandons unfinished uploads idle for longer than `expiry` and deletes
/// orphaned part objects; the same code the running service sweeps with. For tests, which
/// pick `now` instead of waiting. Safe while a server runs on the same data dir.
#[doc(hidden)]
pub async fn sweep_firmware(
    storage: impl Into<Storage>,
    now: chrono::DateTime<chrono::Utc>,
    expiry: Duration,
) -> anyhow::Result<SweepReport> {
    let storage = storage.into();
    let pool = storage.open_database().await?;
    let firmware = domain::firmware::Firmware::new(storage.open_blobs()?, 1);
    let report = domain::firmware::lifecycle::sweep(&pool, &firmware, now, expiry).await;
    pool.close().await;
    report.map_err(|err| anyhow::anyhow!(err.body.message))
}

/// Runs one evaluation of the rollout controller at time `now` on the database of `storage`
/// (a data dir converts into its local storage): every release whose next step is due takes
/// it, or halts when its guard trips; the same code a running service evaluates with. For
/// tests, which pick `now` instead of waiting. Safe while servers run on the same database,
/// and when called concurrently (each step is taken once).
#[doc(hidden)]
pub async fn evaluate_rollouts(
    storage: impl Into<Storage>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<RolloutEvaluation> {
    let pool = storage.into().open_database().await?;
    let done = domain::firmware::rollout::evaluate(&pool, now).await;
    pool.close().await;
    done.map_err(|err| anyhow::anyhow!(err.body.message))
}

/// Inserts `count` devices named `<prefix>-000000`… into product `product` (name or ID) of
/// organization `default`, in one transaction, straight into the database of `storage` (a data
/// dir converts into its local storage): seeding for tests and benchmarks, where one API call
/// per device would dominate the run. Safe while a server runs on the same database.
#[doc(hidden)]
pub async fn seed_devices(
    storage: impl Into<Storage>,
    product: &str,
    prefix: &str,
    count: usize,
) -> anyhow::Result<()> {
    let pool = storage.into().open_database().await?;
    let org_id = store::orgs::id_by_name(&pool, store::orgs::DEFAULT_ORG)
        .await?
        .context("the database has no `default` organization yet")?;
    let mut tx = store::begin_write(&pool).await?;
    let product = store::products::resolve(&mut tx, &org_id, product)
        .await?
        .with_context(|| format!("no product `{product}`"))?;
    store::devices::seed(&mut tx, &org_id, &product.id, prefix, count, store::now()).await?;
    tx.commit().await?;
    pool.close().await;
    Ok(())
}
