//! Device move: devices change product. Per the domain rules a move is a re-provisioning:
//! cohort cleared (or set to a cohort of the target), credentials revoked,
//! `needs_provisioning` set, every device certificate revoked, one `device.moved` event per
//! device with both products.

use super::{
    apply_and_commit, begin, check_selection, missing_error, missing_refusals, plan, select,
};
use crate::api::{BulkResult, MoveDevices};
use crate::server::auth::Principal;
use crate::server::domain::Validator;
use crate::server::domain::lookup::{find_cohort, writable_product};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::Pool;
use crate::server::store::bulk::Change;
use crate::server::store::bulk::FailAfterRows;

/// Moves the selected devices to another product, all or none (or plans it, for a dry run).
/// Refused (409) when the target is archived, when `to_cohort` is not a cohort of it, or when
/// a named device does not exist.
pub async fn move_devices(
    pool: &Pool,
    principal: &Principal,
    body: &MoveDevices,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, false);
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = begin(pool, body.dry_run).await?;
    let target = writable_product(&mut tx, principal, &body.to_product).await?;
    if target.archived {
        return Err(ApiError::conflict(format!(
            "product `{}` is archived; devices cannot be moved into it",
            target.name
        ))
        .with_hint(format!("fleet product unarchive {}", target.name)));
    }
    let to_cohort = match &body.to_cohort {
        Some(reference) => Some(
            find_cohort(&mut tx, org, &target, reference)
                .await?
                .ok_or_else(|| {
                    ApiError::conflict(format!(
                        "product `{}` has no cohort `{reference}`; moved devices can only join a cohort of their new product",
                        target.name
                    ))
                    .with_hint(format!(
                        "list its cohorts with `fleet cohort list --product {}`",
                        target.name
                    ))
                })?,
        ),
        None => None,
    };
    let missing = select(&mut tx, principal, &body.selection, None).await?;
    let change = Change::Move {
        to_product: &target,
        to_cohort: to_cohort.as_ref(),
    };
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
        return Err(missing_error(&missing, "moved"));
    }
    apply_and_commit(tx, principal, &change, body.list, fail_after_rows).await
}
