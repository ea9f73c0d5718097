//! The device API: the second listener (`fleet server --device-listen`), where devices
//! authenticate with X.509 client certificates (mutual TLS), never with API keys.

pub mod principal;
pub mod check_in;
pub mod download;
pub mod reports;
pub mod update_routes;
