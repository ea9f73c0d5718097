//! HTTP handlers, one file per resource. Each validates its input, runs the domain rules inside
//! one transaction through the store, and answers with the resource and its `ETag`.

pub mod api_keys;
pub mod bulk;
pub mod cohorts;
pub mod devices;
pub mod events;
pub mod firmware;
pub mod meta;
pub mod products;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
pub(crate) use super::not_found::{unknown_device, unknown_product};
use super::store::{self, Conn};
use crate::api::{Cohort, CohortId, FieldError, Product};

/// A single resource with `ETag: "<revision>"` and, for creates, its `Location`.
fn resource<T: Serialize>(
    status: StatusCode,
    value: &T,
    revision: i64,
    location: Option<String>,
) -> Response {
    let mut response = (status, Json(value)).into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::try_from(format!("\"{revision}\"")) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::try_from(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// Collects every invalid field of a request so one 422 reports them all.
#[derive(Default)]
struct Validator(Vec<FieldError>);

impl Validator {
    fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.0.push(FieldError {
                field: field.to_owned(),
                message,
            });
        }
    }

    fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// A failed insert or update: a unique-constraint race past the pre-check becomes `conflict`.
fn unique_or(err: sqlx::Error, conflict: impl FnOnce() -> ApiError) -> ApiError {
    if store::is_unique_violation(&err) {
        conflict()
    } else {
        err.into()
    }
}

async fn product_or_404(conn: &mut Conn, org_id: &str, reference: &str) -> ApiResult<Product> {
    store::products::resolve(conn, org_id, reference)
        .await?
        .ok_or_else(|| unknown_product(reference))
}

/// The product a list or selection filters by: 404 when missing or outside the key's scope.
async fn visible_product(
    conn: &mut Conn,
    principal: &crate::server::auth::Principal,
    reference: &str,
) -> ApiResult<Product> {
    let product = product_or_404(conn, &principal.org_id, reference).await?;
    if !principal.sees(&product.id) {
        return Err(unknown_product(reference));
    }
    Ok(product)
}

/// The cohort a list or selection filters by: a cohort of `product` (ID or name) when one is
/// given, else any cohort ID (a name needs its product).
async fn filter_cohort_id(
    conn: &mut Conn,
    org_id: &str,
    product: Option<&Product>,
    reference: &str,
) -> ApiResult<CohortId> {
    match product {
        Some(product) => Ok(find_cohort(conn, org_id, product, reference)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "product `{}` has no cohort `{reference}`",
                    product.name
                ))
            })?
            .id),
        None => CohortId::parse(reference)
            .ok_or_else(|| ApiError::not_found(format!("no cohort `{reference}`"))),
    }
}

/// The cohort `reference` (name or ID) of `product`; `None` when the product has no such cohort.
async fn find_cohort(
    conn: &mut Conn,
    org_id: &str,
    product: &Product,
    reference: &str,
) -> ApiResult<Option<Cohort>> {
    let cohort = match CohortId::parse(reference) {
        Some(id) => store::cohorts::get(conn, org_id, &id)
            .await?
            .filter(|cohort| cohort.product_id == product.id),
        None => store::cohorts::get_by_name(conn, &product.id, reference).await?,
    };
    Ok(cohort)
}

fn archived(product: &Product, what: &str) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` is archived; unarchive it first to add {what}",
        product.name
    ))
    .with_hint(format!("fleet product unarchive {}", product.name))
}

/// Appends the audit event for a successful write, on the write's own transaction.
async fn audit(
    conn: &mut Conn,
    principal: &crate::server::auth::Principal,
    action: &str,
    resource_id: &str,
    product_id: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    store::events::record(
        conn,
        &store::events::NewEvent {
            org_id: &principal.org_id,
            actor: principal.actor(),
            action,
            resource_id: Some(resource_id),
            product_id: Some(product_id),
            outcome: store::events::Outcome::Ok,
            details,
        },
    )
    .await?;
    Ok(())
}
