//! One connection from accept to close: the listener's handshake (TLS on the device listener)
//! within the header timeout, hyper's HTTP/1 with the header timeout, a watchdog for the idle
//! timeout, closing when the connection cap sheds it, and a graceful finish on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::TransportConfig;
use super::client_ip::IpNet;
use super::handshake::Handshake;
use super::io::WatchedStream;
use super::service::RequestService;
use super::slots::Slot;

/// What every connection needs from the configuration.
pub struct Settings {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub trusted_proxies: Vec<IpNet>,
    pub keep_alive: Option<Duration>,
}

impl Settings {
    /// How long a connection past its handshake may take to deliver its next request head.
    fn head_wait(&self) -> Duration {
        self.keep_alive.unwrap_or(self.header_timeout)
    }

    /// How long a connection past its handshake may sit with nothing moving.
    fn quiet_limit(&self) -> Duration {
        self.keep_alive
            .map_or(self.idle_timeout, |wait| wait.max(self.idle_timeout))
    }
}

impl From<TransportConfig> for Settings {
    fn from(config: TransportConfig) -> Self {
        Settings {
            header_timeout: config.header_timeout,
            body_timeout: config.body_timeout,
            idle_timeout: config.idle_timeout,
            trusted_proxies: config.trusted_proxies,
            keep_alive: config.keep_alive,
        }
    }
}

/// Serves HTTP/1 on `stream` until the client closes it, a timeout or the connection cap
/// closes it, or (after `stop`) its request in progress is answered.
pub async fn serve<H: Handshake>(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    app: axum::Router,
    settings: Arc<Settings>,
    handshake: Arc<H>,
    mut stop: watch::Receiver<bool>,
) {
    // Responses are written whole; waiting for more to coalesce only adds latency.
    let _ = stream.set_nodelay(true);
    let activity = Arc::clone(&slot.activity);
    // A client that never finishes its handshake holds a slot no longer than one that never
    // finishes its request head.
    let shaken = tokio::select! {
        shaken = tokio::time::timeout(settings.header_timeout, handshake.handshake(stream, peer)) => shaken,
        () = activity.shed.notified() => return,
        _ = stop.changed() => return,
    };
    let (stream, extensions) = match shaken {
        Ok(Ok(shaken)) => shaken,
        Ok(Err(err)) => {
            tracing::debug!(client = %peer, error = %err, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(client = %peer, "handshake timed out");
            return;
        }
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.head_wait());
    let service = RequestService {
        app,
        peer,
        activity: Arc::clone(&activity),
        settings: Arc::clone(&settings),
        extensions,
    };
    let io = TokioIo::new(WatchedStream::new(stream, Arc::clone(&activity)));
    let connection = http.serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    let quiet_limit = settings.quiet_limit();
    loop {
        if !stopping && *stop.borrow() {
            stopping = true;
            // Without a request in progress (idle, or a head still arriving) there is nothing
            // to finish: close now rather than wait out the header timeout.
            if activity.idle_since().is_some() {
                break;
            }
            connection.as_mut().graceful_shutdown();
        }
        let idle_deadline = if activity.handling() {
            // A handler may take its time; check again later.
            Instant::now() + quiet_limit
        } else {
            Instant::from_std(activity.last_io()) + quiet_limit
        };
        tokio::select! {
            // The connection first: a request already waiting in the socket (the task woken
            // late, after the idle deadline) is read, and so counts as activity, before the
            // idle check can close it.
            biased;
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(client = %peer, error = %err, "connection ended with an error");
                }
                break;
            }
            () = tokio::time::sleep_until(idle_deadline) => {
                let quiet = Instant::from_std(activity.last_io()) + quiet_limit;
                if !activity.handling() && quiet <= Instant::now() {
                    tracing::debug!(client = %peer, "closing an idle connection");
                    break;
                }
            }
            () = activity.shed.notified() => break,
            changed = stop.changed(), if !stopping => {
                if changed.is_err() {
                    // The server is gone without saying stop; finish as if it had.
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    drop(slot);
}
