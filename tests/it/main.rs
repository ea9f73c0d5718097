//! The one integration-test binary: the real service in-process on 127.0.0.1:0, driven over HTTP
//! (`api_*` modules) and through the real `fleet` binary (`cli_*` modules).

mod access_bruteforce;
mod access_cli;
mod access_events;
mod access_keys;
mod access_matrix;
mod access_replicas;
mod access_support;
mod api_auth;
mod api_bad_input;
mod api_bootstrap;
mod api_cohorts;
mod api_devices;
mod api_idempotency;
mod api_openapi;
mod api_pagination;
mod api_products;
mod api_support;
mod bulk_assign;
mod bulk_import;
mod bulk_move;
mod bulk_support;
mod cli_confirm;
mod cli_errors;
mod cli_output;
mod cli_paging;
mod cli_profile;
mod cli_retry;
mod cli_server;
mod common;
mod firmware_api;
mod firmware_digest;
mod firmware_matrix;
mod firmware_push;
mod firmware_support;
mod generated;
