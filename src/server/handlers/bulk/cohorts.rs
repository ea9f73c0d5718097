//! `POST /v1/bulk/assign` and `/v1/bulk/unassign`: put devices into a cohort of their product,
//! or take them out of theirs. Devices already where they should be are left alone.

use axum::Json;
use axum::extract::State;

use super::{
    Validator, apply_and_commit, begin, check_selection, find_cohort, missing_error,
    missing_refusals, plan, product_or_404, select, some_of,
};
use crate::api::bulk::SAMPLE_MAX;
use crate::api::{AssignCohort, BulkResult, Refusal, UnassignCohort};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::ApiJson;
use crate::server::state::AppState;
use crate::server::store::bulk::{self as sql, Change};

/// Assign the selected devices to a cohort, all or none. Every selected device must be in the
/// cohort's product (409 lists those that are not); a filter selection without `product` is
/// limited to it.
#[utoipa::path(post, path = "/v1/bulk/assign", operation_id = "assignCohort", tag = "bulk", request_body = AssignCohort,
    responses((status = 200, body = BulkResult)))]
pub async fn assign(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<AssignCohort>,
) -> ApiResult<Json<BulkResult>> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, true);
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = begin(&state, body.dry_run).await?;
    let product = product_or_404(&mut tx, org, &body.product).await?;
    principal.check_writable(Some(&product.id), &product.name)?;
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
    let missing = select(&mut tx, &principal, &body.selection, Some(&product)).await?;
    let (outside, examples) = sql::outside_product(&mut tx, &product.id, SAMPLE_MAX).await?;
    let change = Change::Assign { cohort: &cohort };
    if body.dry_run {
        let mut refusals = missing_refusals(&missing);
        refusals.extend(examples.into_iter().map(|(device, in_product)| Refusal {
            device,
            reason: format!("in product `{in_product}`, not `{}`", product.name),
        }));
        refusals.truncate(SAMPLE_MAX);
        let refused = missing.len() as u64 + outside;
        return Ok(Json(plan(&mut tx, &change, refused, refusals).await?));
    }
    if !missing.is_empty() {
        return Err(missing_error(&missing, "assigned"));
    }
    if outside > 0 {
        let names: Vec<String> = examples.into_iter().map(|(device, _)| device).collect();
        let noun = if outside == 1 {
            "device is"
        } else {
            "devices are"
        };
        return Err(ApiError::conflict(format!(
            "{outside} selected {noun} not in product `{}`: {}; a device's cohort must be in its product; nothing was assigned",
            product.name,
            some_of(&names, outside)
        ))
        .with_hint("move them first with `fleet device move`, or leave them out"));
    }
    let result = apply_and_commit(tx, &state, &principal, &change).await?;
    Ok(Json(result))
}

/// Take the selected devices out of their cohorts, all or none.
#[utoipa::path(post, path = "/v1/bulk/unassign", operation_id = "unassignCohort", tag = "bulk", request_body = UnassignCohort,
    responses((status = 200, body = BulkResult)))]
pub async fn unassign(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<UnassignCohort>,
) -> ApiResult<Json<BulkResult>> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, false);
    v.finish()?;

    let mut tx = begin(&state, body.dry_run).await?;
    let missing = select(&mut tx, &principal, &body.selection, None).await?;
    let change = Change::Unassign;
    if body.dry_run {
        let refusals = missing_refusals(&missing);
        return Ok(Json(
            plan(&mut tx, &change, missing.len() as u64, refusals).await?,
        ));
    }
    if !missing.is_empty() {
        return Err(missing_error(&missing, "unassigned"));
    }
    let result = apply_and_commit(tx, &state, &principal, &change).await?;
    Ok(Json(result))
}
