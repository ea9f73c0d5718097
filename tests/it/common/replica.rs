//! An in-process replica: the service opened with a given configuration and served on
//! 127.0.0.1:0 in the caller's tokio runtime, for tests that run several replicas of one
//! deployment side by side.

use std::net::SocketAddr;

use fleet::server::{Server, ServerConfig};
use tokio::sync::oneshot;

/// Serves `config` (already pointed at the run's storage); returns its address, the key a
/// first start bootstrapped, and the sender whose drop stops it.
pub async fn start(config: ServerConfig) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    let (server, key) = Server::open(config).await.expect("open a replica");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    (addr, key, stop)
}
