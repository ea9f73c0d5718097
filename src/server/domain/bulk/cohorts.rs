//! Cohort assign and unassign: put devices into a cohort of their product, or take them out of
//! theirs. Devices already where they should be are left alone; a device's own configuration
//! override must still satisfy its product's schema over its new cohort's.

use super::{
    apply_and_commit, begin, cap, check_selection, missing_error, missing_refusals, outside_error,
    outside_refusals, plan, select,
};
use crate::api::bulk::SAMPLE_MAX;
use crate::api::{AssignCohort, BulkResult, UnassignCohort};
use crate::server::auth::Principal;
use crate::server::domain::Validator;
use crate::server::domain::bulk::configs::check_cohort_change;
use crate::server::domain::configs::ConfigCaches;
use crate::server::domain::lookup::{find_cohort, writable_product};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::Pool;
use crate::server::store::bulk::FailAfterRows;
use crate::server::store::bulk::{self as sql, Change};

/// Assigns the selected devices to a cohort, all or none (or plans it, for a dry run). Every
/// selected device must be in the cohort's product (409 lists those that are not); a filter
/// selection without `product` is limited to it.
pub async fn assign(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    body: &AssignCohort,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, true);
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = begin(pool, body.dry_run).await?;
    let product = writable_product(&mut tx, principal, &body.product).await?;
    let cohort = find_cohort(&mut tx, org, &product, &body.cohort)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no cohort `{}`",
                product.name, body.cohort
            ))
            .with_hint(format!(
                "create it with `fleet cohort create {} --product {}`",
                body.cohort, product.name
            ))
        })?;
    let missing = select(&mut tx, principal, &body.selection, Some(&product)).await?;
    // The error of a real run names a sample; a dry run lists them per `list`.
    let listed = if body.dry_run {
        cap(body.list)
    } else {
        Some(SAMPLE_MAX)
    };
    let (outside, examples) = sql::outside_product(&mut tx, &product.id, listed).await?;
    let change = Change::Assign { cohort: &cohort };
    if body.dry_run {
        let mut refusals = missing_refusals(&missing, body.list);
        refusals.extend(outside_refusals(examples, &product));
        refusals.truncate(cap(body.list).unwrap_or(usize::MAX));
        // Refused devices would not change: the plan counts and lists the others.
        sql::drop_outside(&mut tx, &product.id).await?;
        check_cohort_change(&mut tx, caches, org, Some(&cohort)).await?;
        let refused = (missing.len() as u64 + outside, outside);
        return plan(&mut tx, &change, body.list, refused, refusals).await;
    }
    if !missing.is_empty() {
        return Err(missing_error(&missing, "assigned"));
    }
    if outside > 0 {
        let rule = "a device's cohort must be in its product";
        return Err(outside_error(outside, examples, &product, rule, "assigned"));
    }
    check_cohort_change(&mut tx, caches, org, Some(&cohort)).await?;
    apply_and_commit(tx, principal, &change, body.list, fail_after_rows).await
}

/// Takes the selected devices out of their cohorts, all or none (or plans it, for a dry run).
pub async fn unassign(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    body: &UnassignCohort,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, false);
    v.finish()?;

    let mut tx = begin(pool, body.dry_run).await?;
    let missing = select(&mut tx, principal, &body.selection, None).await?;
    let change = Change::Unassign;
    check_cohort_change(&mut tx, caches, &principal.org_id, None).await?;
    if body.dry_run {
        let refusals = missing_refusals(&missing, body.list);
        return plan(
            &mut tx,
            &change,
            body.list,
            (missing.len() as u64, 0),
            refusals,
        )
        .await;
    }
    if !missing.is_empty() {
        return Err(missing_error(&missing, "unassigned"));
    }
    apply_and_commit(tx, principal, &change, body.list, fail_after_rows).await
}
