//! `fleet server` (skeleton: filled in by the service work).

use clap::Args;

#[derive(Debug, Args)]
pub struct ServerArgs {}
