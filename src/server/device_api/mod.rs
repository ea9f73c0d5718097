//! The device API: the second listener (`fleet server --device-listen`), where devices
//! authenticate with X.509 client certificates (mutual TLS), never with API keys.
//!
//! - `tls`: the server certificate (files, or self-signed in the data dir) and the TLS
//!   handshake, which asks for a client certificate and checks the client holds its key.
//! - `gate`: the layer that admits each request as a device ([`principal::DevicePrincipal`]
//!   in its extensions) or refuses it; `identity` resolves a certificate against the CAs,
//!   certificates and devices in the database; `jitp` provisions unknown devices just in time
//!   in batches (`jitp_write`: one write transaction per batch); `refusal` answers, logs and
//!   records refusals.
//! - `routes`: the device routes. **To add one**, add it to `routes::routes()`; its handler
//!   takes `Extension<DevicePrincipal>` and runs only for admitted devices.
//! - `update_routes` with `check_in`, `reports`, `download`: the routes of updates (check-in,
//!   update reports, downloads of offered binaries), merged into `routes::routes()`.
//!
//! The listener runs on the admin listener's connection machinery (`transport`): the same
//! connection cap (a separate one per listener), header/body/idle timeouts and
//! `--trusted-proxy` list, with the TLS handshake in front under the header timeout.

mod chain;
mod check_in;
mod download;
mod gate;
mod identity;
mod jitp;
mod jitp_write;
mod peer;
pub mod principal;
mod refusal;
mod reports;
mod router;
mod routes;
mod tls;
mod update_routes;

pub use gate::FORWARDED_CERT_HEADER;
pub use tls::{DeviceTls, SELF_SIGNED_CERT, SELF_SIGNED_KEY, ServerTls, TlsHandshake, load};

use super::state::AppState;
use super::transport::IpNet;

/// The device API's router with its authentication layer.
pub fn app(state: AppState, trusted_proxies: Vec<IpNet>) -> axum::Router {
    router::build(gate::DeviceGate::new(state, trusted_proxies))
}
