//! How the service accepts and serves connections: its own accept loop over hyper's HTTP/1
//! connections, with a cap on open connections, header/body/idle timeouts, the open-file limit
//! raised at start, the client address behind trusted proxies, and JSON for the errors hyper
//! answers by itself. The router never sees any of this.

mod activity;
mod client_ip;
mod connection;
mod fd_limit;
mod handshake;
mod head_limits;
mod hyper_errors;
mod io;
mod service;
mod slots;

use std::future::Future;
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use client_ip::{ClientIp, IpNet, is_trusted_peer, parse_trusted_proxy};
pub use handshake::{Handshake, Plain};
pub use head_limits::{MAX_HEADER_BYTES, MAX_URI_BYTES};

/// Connections served at once unless configured (and never more than the open-file limit
/// leaves room for).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// How long a client may take to send a complete request head.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may go without any data arriving.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection may sit with nothing moving and no request being handled.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// File descriptors kept free of connections for the database, blobs and logs.
const RESERVED_FDS: u64 = 256;
/// Pause after an accept error such as "too many open files", so the loop never spins.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Accept errors are logged at most this often.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// Settings of the connection layer (`fleet server --max-connections`, `--header-timeout`, …).
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Connections served at once. When all are taken, the connection idle the longest is
    /// closed to make room for a new one; when none is idle, new ones wait in the listen
    /// backlog. `None`: [`DEFAULT_MAX_CONNECTIONS`], lowered to fit the open-file limit.
    pub max_connections: Option<usize>,
    /// A request head (request line and headers) must arrive completely within this time of the
    /// connection opening or the previous response being sent; else the connection is closed.
    pub header_timeout: Duration,
    /// A request body that delivers no data for this long is answered 408.
    pub body_timeout: Duration,
    /// A connection on which nothing is read or written for this long while no request is being
    /// handled is closed (idle keep-alive connections, clients that stop reading a response).
    pub idle_timeout: Duration,
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies); from anyone else the
    /// header is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// For listeners whose clients prove who they are before any HTTP (the device listener's
    /// mutual TLS): how long an established connection may wait for its next request. It
    /// replaces the header timeout after the handshake and lengthens the idle timeout, so a
    /// device checking in every few minutes keeps its connection instead of paying a full
    /// handshake each time; the connection cap still bounds how many are kept. `None`: the
    /// header and idle timeouts apply, as for anonymous clients.
    pub keep_alive: Option<Duration>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_connections: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            trusted_proxies: Vec::new(),
            keep_alive: None,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets every
/// connection finish its request in progress and waits for all of them to close.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    config: TransportConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, app, config, Plain, shutdown).await;
}

/// [`serve`] with `handshake` run on each connection before HTTP (within the header timeout):
/// the device listener's TLS.
pub async fn serve_with<H: Handshake>(
    listener: TcpListener,
    app: axum::Router,
    config: TransportConfig,
    handshake: H,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let handshake = Arc::new(handshake);
    let fd_limit = fd_limit::raise_to_hard_limit();
    let max_connections = connection_cap(config.max_connections, fd_limit);
    tracing::info!(
        max_connections,
        header_timeout = ?config.header_timeout,
        body_timeout = ?config.body_timeout,
        idle_timeout = ?config.idle_timeout,
        keep_alive = ?config.keep_alive,
        "accepting connections"
    );
    let slots = slots::Slots::new(max_connections);
    let settings = Arc::new(connection::Settings::from(config));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_error_log: Option<Instant> = None;
    loop {
        let reservation = tokio::select! {
            () = &mut shutdown => break,
            reservation = slots.reserve() => reservation,
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                if !is_per_connection(&err) {
                    if last_error_log.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_EVERY) {
                        tracing::warn!(error = %err, "could not accept a connection; retrying");
                        last_error_log = Some(Instant::now());
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
                continue;
            }
        };
        let slot = reservation.open();
        let (app, settings, stop) = (app.clone(), Arc::clone(&settings), stop_rx.clone());
        let handshake = Arc::clone(&handshake);
        tokio::spawn(connection::serve(
            stream, peer, slot, app, settings, handshake, stop,
        ));
    }
    drop(listener);
    // Connections finish their request in progress and close; idle ones close at once.
    let _ = stop_tx.send(true);
    slots.all_closed().await;
}

/// The configured cap, or the default; either way leaving [`RESERVED_FDS`] of the open-file
/// limit for everything else, so accept does not run out of descriptors first.
fn connection_cap(configured: Option<usize>, fd_limit: Option<u64>) -> usize {
    let wanted = configured.unwrap_or(DEFAULT_MAX_CONNECTIONS).max(1);
    let Some(limit) = fd_limit else {
        return wanted;
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED_FDS))
        .unwrap_or(usize::MAX)
        .max(1);
    if wanted > room {
        tracing::warn!(
            wanted,
            open_file_limit = limit,
            "the connection cap is lowered to {room} to fit the open-file limit; \
             hint: raise `ulimit -n` (hard limit) to serve more connections"
        );
    }
    wanted.min(room)
}

/// Errors that concern only the connection being accepted (it was reset before accept):
/// the next accept may succeed at once.
fn is_per_connection(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_other_files() {
        assert_eq!(connection_cap(None, None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(connection_cap(None, Some(1024)), 1024 - 256);
        assert_eq!(connection_cap(Some(50), Some(1024)), 50);
        assert_eq!(connection_cap(Some(0), None), 1);
        assert_eq!(connection_cap(Some(10), Some(100)), 1);
    }
}
