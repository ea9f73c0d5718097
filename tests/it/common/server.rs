//! `TestServer`: the real service in-process on 127.0.0.1:0 with a temporary data dir, running
//! on its own tokio runtime in a background thread, so sync and async tests can both use it.

use std::sync::mpsc;
use std::thread::JoinHandle;

use fleet::server::{Server, ServerConfig};
use tokio::sync::oneshot;

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The admin key bootstrapped into the fresh data dir.
    pub api_key: String,
    pub data_dir: tempfile::TempDir,
    /// Where the server keeps its state in this run (SQLite in `data_dir`, or PostgreSQL).
    pub storage: fleet::server::Storage,
    /// The device API's address, when the config had `device_tls` (see
    /// [`TestServer::start_with_devices`]).
    pub device_addr: Option<std::net::SocketAddr>,
    /// The SHA-256 of the device API's server certificate, beside `device_addr`.
    pub device_fingerprint: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// Like [`TestServer::start`], with the device API (self-signed TLS in the data dir) on a
    /// second 127.0.0.1:0 listener: `device_addr`, `device_fingerprint`.
    #[allow(dead_code)]
    pub fn start_with_devices(
        configure: impl FnOnce(&mut ServerConfig) + Send + 'static,
    ) -> TestServer {
        Self::start_with(|config| {
            config.device_tls = Some(fleet::server::DeviceTls::SelfSigned);
            configure(config);
        })
    }

    /// Like [`TestServer::start`], with the config adjusted first (e.g. failure injection).
    pub fn start_with(configure: impl FnOnce(&mut ServerConfig) + Send + 'static) -> TestServer {
        log_when_asked();
        let data_dir = tempfile::tempdir().expect("create a temp data dir");
        let path = data_dir.path().to_path_buf();
        let (storage_tx, storage_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("build the server runtime");
            runtime.block_on(async move {
                let mut config = ServerConfig::new(path);
                configure(&mut config);
                super::backend::apply(&mut config);
                storage_tx
                    .send(config.storage())
                    .expect("report the storage");
                let with_devices = config.device_tls.is_some();
                let (server, key) = Server::open(config).await.expect("open the server");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1:0");
                let addr = listener.local_addr().expect("local addr");
                let devices = if with_devices {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind 127.0.0.1:0");
                    let device_addr = listener.local_addr().expect("local addr");
                    let fingerprint = server.device_tls_fingerprint().map(str::to_owned);
                    Some((listener, device_addr, fingerprint))
                } else {
                    None
                };
                let device_info = devices
                    .as_ref()
                    .map(|(_, addr, fingerprint)| (*addr, fingerprint.clone()));
                ready_tx
                    .send((
                        addr,
                        key.expect("a fresh data dir bootstraps a key"),
                        device_info,
                    ))
                    .expect("report readiness");
                server
                    .serve_with_devices(listener, devices.map(|(l, _, _)| l), async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let storage = storage_rx.recv().expect("the server thread configured");
        let (addr, api_key, device_info) = ready_rx.recv().expect("the server thread started");
        let (device_addr, device_fingerprint) = match device_info {
            Some((addr, fingerprint)) => (Some(addr), fingerprint),
            None => (None, None),
        };
        TestServer {
            url: format!("http://{addr}"),
            api_key,
            data_dir,
            storage,
            device_addr,
            device_fingerprint,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Inserts `count` devices `<prefix>-000000`… into `product` straight into the database.
    #[allow(dead_code)]
    pub fn seed_devices(&self, product: &str, prefix: &str, count: usize) {
        let storage = self.storage.clone();
        let product = product.to_owned();
        let prefix = prefix.to_owned();
        // A thread of its own: callers may be inside an async test's runtime.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a seeding runtime")
                .block_on(fleet::server::seed_devices(
                    storage, &product, &prefix, count,
                ))
        })
        .join()
        .expect("seeding thread")
        .expect("seed devices");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// With `FLEET_TEST_LOG=error` (any tracing filter), the in-process servers log to stderr:
/// how to see why a request failed with 500 inside a test.
fn log_when_asked() {
    if let Ok(filter) = std::env::var("FLEET_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}
