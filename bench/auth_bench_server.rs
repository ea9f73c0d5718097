//! The fleet service for `bench/auth.sh`: exactly what `fleet server` serves, plus
//! `GET /bench/no-auth/products/{product}` (the product handler without access control), so
//! one server in one run gives both sides of "what does authentication cost".
//!
//! Usage: auth_bench_server LISTEN_ADDR DATA_DIR — writes the bootstrapped admin key to
//! DATA_DIR/admin-api-key and serves until killed. Logs warnings to stderr, as
//! `FLEET_LOG=warn fleet server` does.

use anyhow::Context as _;
use fleet::server::{Server, ServerConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(data_dir)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: auth_bench_server LISTEN_ADDR DATA_DIR");
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("bind {listen}"))?;
    let data_dir = std::path::PathBuf::from(data_dir);
    let (server, key) = Server::open(ServerConfig::new(&data_dir)).await?;
    if let Some(key) = key {
        std::fs::write(data_dir.join("admin-api-key"), key)?;
    }
    server
        .serve_with_unauthenticated_bench_route(listener, std::future::pending())
        .await
}
