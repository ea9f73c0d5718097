//! The service's domain layer: the business rules of every resource. Validation of request
//! bodies, the transaction of each write, not-found and archived-product checks, the product
//! scope of what a body names, and the audit event of each change live here, one file per
//! resource. Functions take plain typed inputs (the caller's [`Principal`], `api` request types,
//! IDs and references) and return `api` types.
//!
//! Errors are [`ApiError`]: the domain's refusals (404, 409, 412, 422, 403) are exactly the
//! answers of the API, and a second error type would only be mapped back one-to-one.
//!
//! Who may import it: the HTTP handlers (thin adapters: extract, call, shape the response) and
//! offline commands such as `fleet server api-key create`. It imports `store` and `api`, never
//! handlers or axum extractors.
//!
//! [`Principal`]: crate::server::auth::Principal

pub mod api_keys;
pub mod audit;
pub mod bulk;
pub mod cas;
pub mod cohorts;
pub mod configs;
pub mod device_certs;
pub mod device_list;
pub mod device_updates;
pub mod devices;
pub mod events;
pub mod firmware;
pub mod lookup;
pub mod out_of_scope;
pub mod products;
pub mod stats;
pub mod x509;

use crate::api::FieldError;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store;

/// Collects every invalid field of a request so one 422 reports them all.
#[derive(Default)]
pub struct Validator(Vec<FieldError>);

impl Validator {
    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.0.push(FieldError {
                field: field.to_owned(),
                message,
            });
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// A failed insert or update: a unique-constraint race past the pre-check becomes `conflict`.
pub fn unique_or(err: sqlx::Error, conflict: impl FnOnce() -> ApiError) -> ApiError {
    if store::is_unique_violation(&err) {
        conflict()
    } else {
        err.into()
    }
}

/// 412 unless `expected` (the caller's `If-Match` revision, if any) is `current`.
pub fn check_revision(expected: Option<i64>, what: &str, current: i64) -> ApiResult<()> {
    match expected {
        Some(expected) if expected != current => Err(ApiError::precondition_failed(format!(
            "{what} is at revision {current}, not {expected}: it changed since you read it"
        ))
        .with_hint("fetch it again and retry with the new revision")),
        _ => Ok(()),
    }
}
