//! Finding the resources a request names, with the not-found, scope and archived answers every
//! resource shares.

use crate::api::{Cohort, CohortId, OrgId, Product};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::{self, Conn};

/// The product `reference` (name or ID); 404 when there is none.
pub async fn product_or_404(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> ApiResult<Product> {
    store::products::resolve(conn, org_id, reference)
        .await?
        .ok_or_else(|| unknown_product(reference))
}

/// The product a write's body names: a scoped key gets the same 403 whether it is outside its
/// scope or missing, so the refusal does not tell which; other keys get 404 when it is missing.
pub async fn writable_product(
    conn: &mut Conn,
    principal: &Principal,
    reference: &str,
) -> ApiResult<Product> {
    let found = product_or_404(conn, &principal.org_id, reference).await;
    principal.check_writable(found.as_ref().ok().map(|p| &p.id), reference)?;
    found
}

/// The product a list or selection filters by: 404 when missing or outside the key's scope.
pub async fn visible_product(
    conn: &mut Conn,
    principal: &Principal,
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
pub async fn filter_cohort_id(
    conn: &mut Conn,
    org_id: &OrgId,
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

pub use crate::server::not_found::{unknown_device, unknown_product};

/// The cohort `reference` (name or ID) of `product`; `None` when the product has no such cohort.
pub async fn find_cohort(
    conn: &mut Conn,
    org_id: &OrgId,
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

/// 409 for adding `what` to an archived product.
pub fn archived(product: &Product, what: &str) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` is archived; unarchive it first to add {what}",
        product.name
    ))
    .with_hint(format!("fleet product unarchive {}", product.name))
}
