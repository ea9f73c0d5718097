//! Cohorts: named groups of devices within a product, unique by name there. Deleting a cohort
//! takes its devices out of it (their `cohort` becomes null, their revision moves); the devices
//! stay in their product.

use super::lookup::{archived, find_cohort, product_or_404, visible_product};
use super::{Validator, audit, check_revision, unique_or};
use crate::api::{AuditAction, validate};
use crate::api::{Cohort, CohortId, CreateCohort, OrgId, Page, Product, UpdateCohort};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Conn, Pool};

fn duplicate(product: &Product, name: &str) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` already has a cohort named `{name}`",
        product.name
    ))
    .with_hint("choose another name, or use the existing cohort")
}

pub(crate) async fn cohort_or_404(
    conn: &mut Conn,
    org_id: &OrgId,
    product: &Product,
    reference: &str,
) -> ApiResult<Cohort> {
    find_cohort(conn, org_id, product, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no cohort `{reference}`",
                product.name
            ))
            .with_hint(format!(
                "list its cohorts with `fleet cohort list --product {}`",
                product.name
            ))
        })
}

/// One page of the cohorts the caller sees, of one product (name or ID) or of all.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: Option<&str>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<Cohort>> {
    let page = PageRequest::new(limit, cursor, CohortId::parse)?;
    let org_id = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = match product {
        Some(reference) => Some(visible_product(&mut conn, principal, reference).await?),
        None => None,
    };
    let filter = store::cohorts::ListFilter {
        product_id: product.as_ref().map(|p| &p.id),
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = store::cohorts::list_within(&mut conn, org_id, &filter, principal.scope()).await?;
    Ok(page.finish(rows, |c| c.id.as_str()))
}

/// Creates a cohort in `product`, which must not be archived; names are unique within it.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateCohort,
) -> ApiResult<Cohort> {
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check("name", validate::cohort_name(&body.name));
    v.check("description", validate::description(&description));
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    if product.archived {
        return Err(archived(&product, "cohorts"));
    }
    if store::cohorts::get_by_name(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate(&product, &body.name));
    }
    let id = CohortId::generate();
    store::cohorts::insert(
        &mut tx,
        org,
        &id,
        &product.id,
        &body.name,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, || duplicate(&product, &body.name)))?;
    let cohort = cohort_or_404(&mut tx, org, &product, id.as_str()).await?;
    let details = serde_json::json!({ "name": cohort.name });
    let (cid, pid) = (id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::CohortCreated,
        cid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(cohort)
}

/// The cohort `cohort` (name or ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    cohort: &str,
) -> ApiResult<Cohort> {
    let org = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, org, product).await?;
    cohort_or_404(&mut conn, org, &product, cohort).await
}

/// Renames or describes a cohort at revision `if_match` (when given).
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    (product, cohort): (&str, &str),
    if_match: Option<i64>,
    body: UpdateCohort,
) -> ApiResult<Cohort> {
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.check("name", validate::cohort_name(name));
    }
    if let Some(description) = &body.description {
        v.check("description", validate::description(description));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    let current = cohort_or_404(&mut tx, org, &product, cohort).await?;
    let what = format!("cohort `{}`", current.name);
    check_revision(if_match, &what, current.revision)?;
    let name = body.name.unwrap_or_else(|| current.name.clone());
    let description = body
        .description
        .unwrap_or_else(|| current.description.clone());
    if name == current.name && description == current.description {
        return Ok(current);
    }
    if name != current.name
        && store::cohorts::get_by_name(&mut tx, &product.id, &name)
            .await?
            .is_some()
    {
        return Err(duplicate(&product, &name));
    }
    store::cohorts::update(&mut tx, &current.id, &name, &description, store::now())
        .await
        .map_err(|err| unique_or(err, || duplicate(&product, &name)))?;
    let cohort = cohort_or_404(&mut tx, org, &product, current.id.as_str()).await?;
    let details = serde_json::json!({ "name": cohort.name, "previous_name": current.name });
    let (cid, pid) = (cohort.id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::CohortUpdated,
        cid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(cohort)
}

/// Deletes a cohort at revision `if_match` (when given); its devices stay in the product with
/// no cohort.
pub async fn delete(
    pool: &Pool,
    principal: &Principal,
    (product, cohort): (&str, &str),
    if_match: Option<i64>,
) -> ApiResult<()> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    let cohort = cohort_or_404(&mut tx, org, &product, cohort).await?;
    let what = format!("cohort `{}`", cohort.name);
    check_revision(if_match, &what, cohort.revision)?;
    let released = store::cohorts::delete(&mut tx, &cohort.id, store::now()).await?;
    let details = serde_json::json!({ "name": cohort.name, "devices_released": released });
    let (cid, pid) = (cohort.id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::CohortDeleted,
        cid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
