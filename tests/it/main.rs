//! The one integration-test binary: the real service in-process on 127.0.0.1:0, driven over HTTP
//! (`api_*` modules) and through the real `fleet` binary (`cli_*` modules).

mod common;
mod api_auth;
mod api_bootstrap;
mod api_support;
mod api_cohorts;
mod api_products;
mod cli_confirm;
mod cli_errors;
mod cli_output;
mod cli_paging;
mod cli_profile;
mod generated;
