//! The device side of the device API (`fleet server --device-listen`): a device's identity
//! (client certificate and key), how it trusts the server, and one keep-alive HTTP/1 connection
//! per device over mutual TLS. `fleet simulate` runs thousands of these; each is a TCP socket,
//! a rustls session and a hyper connection task, with no pool of its own.

mod connection;
mod failure;
mod identity;
mod presigned;
mod trust;

pub use connection::{DeviceConnection, Download, Endpoint};
pub use identity::DeviceIdentity;
pub use presigned::download_url;
pub use trust::{DeviceTls, ServerTrust, parse_fingerprint};
