//! A scaled-out deployment for tests: one database (and blob store) prepared in-process, any
//! number of `fleet server` replica processes on it (so a test can `kill -9` one), and an
//! haproxy in front of them on a loopback port, as an operator would run them.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fleet::server::{Server, ServerConfig};

use crate::cli_server::{self, Running};
use crate::common::backend;
use crate::common::cli::Cli;

/// A deployment's shared state and the admin key bootstrapped into it.
pub struct Deployment {
    pub data_dir: tempfile::TempDir,
    pub key: String,
}

impl Deployment {
    /// Creates the database (and the blob store) and its first admin key, with no replica
    /// running yet.
    pub fn new() -> Deployment {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut config = ServerConfig::new(data_dir.path());
        backend::apply(&mut config);
        let key = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let (server, key) = Server::open(config).await.expect("open the deployment");
                drop(server);
                key.expect("a fresh deployment bootstraps a key")
            });
        Deployment { data_dir, key }
    }

    /// Starts a `fleet server` replica process on this deployment, with `env` added.
    pub fn replica(&self, cli: &Cli, env: &[(&str, &Path)]) -> Replica {
        let mut args: Vec<String> = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            path_str(self.data_dir.path()).into(),
            "--no-profile".into(),
        ];
        args.extend(backend::server_args(self.data_dir.path()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let running = cli_server::start_with_env(cli, &args, env);
        Replica { running }
    }

    /// Seeds `count` devices `<prefix>-000000`… into `product` straight into the database.
    pub fn seed_devices(&self, product: &str, prefix: &str, count: usize) {
        let storage = backend::storage(self.data_dir.path());
        let (product, prefix) = (product.to_owned(), prefix.to_owned());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(fleet::server::seed_devices(
                    storage, &product, &prefix, count,
                ))
        })
        .join()
        .expect("seeding thread")
        .expect("seed devices");
    }
}

pub struct Replica {
    pub running: Running,
}

impl Replica {
    pub fn url(&self) -> &str {
        &self.running.url
    }

    pub fn addr(&self) -> &str {
        self.url().trim_start_matches("http://")
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill(self) {
        cli_server::kill(self.running);
    }
}

/// An haproxy process balancing round-robin over replicas, with health checks, retrying a
/// request whose connection failed on another replica.
pub struct LoadBalancer {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl LoadBalancer {
    /// `None` (having said why on stderr) when haproxy is not installed.
    pub fn start(replicas: &[&Replica]) -> Option<LoadBalancer> {
        let Some(haproxy) = find_haproxy() else {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: a load-balancer test (haproxy is not installed; \
                 `apt-get install haproxy`, which .ci/run does)"
            );
            return None;
        };
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let servers: String = replicas
            .iter()
            .enumerate()
            .map(|(i, replica)| format!("  server r{i} {} check\n", replica.addr()))
            .collect();
        // Parts are 8 MiB: no buffering limits in the way, and a request that found its
        // replica dead is retried (it never reached a service) on another one.
        let config = format!(
            "global\n  maxconn 256\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  \
             timeout server 60s\n  retries 3\n  option redispatch 1\n  \
             retry-on conn-failure empty-response\n\
             frontend fleet\n  bind 127.0.0.1:{port}\n  default_backend replicas\n\
             backend replicas\n  balance roundrobin\n  option httpchk GET /v1/health\n  \
             default-server inter 200ms fall 1 rise 1\n{servers}"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let child = Command::new(haproxy)
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        let lb = LoadBalancer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        lb.wait_until_answering();
        Some(lb)
    }

    fn wait_until_answering(&self) {
        let addr = self.url.trim_start_matches("http://").to_owned();
        for _ in 0..500 {
            if health_ok(&addr) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("haproxy never answered on {}", self.url);
    }
}

/// Whether `GET /v1/health` on `addr` answers 200 (one plain HTTP/1.0 exchange).
fn health_ok(addr: &str) -> bool {
    use std::io::Read as _;
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /v1/health HTTP/1.0\r\nHost: fleet\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_haproxy() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|candidate| candidate.is_file())
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
