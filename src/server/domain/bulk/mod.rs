//! Bulk writes: device move, cohort assign/unassign, device import and device-level
//! configuration overrides. Each request runs in one transaction, set-based over a selection
//! table (no per-device round trips: a request may touch 100,000 devices), and is
//! all-or-nothing. This module owns resolving a [`Selection`]
//! into that table, dry-run plans, applying a change, and the refusal messages.

pub mod cohorts;
pub mod configs;
mod hold;
pub mod import;
pub mod moves;

use chrono::{DateTime, Utc};

use super::Validator;
use super::lookup::{filter_cohort_id, visible_product};
use crate::api::bulk::{MAX_SELECTED, SAMPLE_MAX};
use crate::api::{
    BulkListing, BulkResult, CohortId, Device, DeviceId, Product, Refusal, Selection, validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::bulk::FailAfterRows;
use crate::server::store::bulk::{self as sql, Change, CohortFilter, Filter};
use crate::server::store::bulk_devices;
use crate::server::store::{self, Conn, Pool, Tx};

/// A dry run only reads (and fills temporary tables), so it need not queue for the write lock.
async fn begin(pool: &Pool, dry_run: bool) -> ApiResult<Tx> {
    Ok(if dry_run {
        pool.begin().await?
    } else {
        store::begin_write(pool).await?
    })
}

/// Checks a selection's shape before any database work.
fn check_selection(v: &mut Validator, selection: &Selection, implied_product: bool) {
    let filters = selection.has_filters();
    match &selection.devices {
        Some(_) if filters => v.check(
            "selection",
            Err("name devices or filter them, not both".into()),
        ),
        Some(devices) if devices.len() > MAX_SELECTED => v.check(
            "selection.devices",
            Err(format!(
                "{} devices named; the limit is {MAX_SELECTED} per request",
                devices.len()
            )),
        ),
        Some(devices) if devices.iter().any(|d| d.trim().is_empty()) => v.check(
            "selection.devices",
            Err("device references must not be empty".into()),
        ),
        None if !filters => v.check(
            "selection",
            Err("select devices: list them in `devices`, or set a filter \
                 (product, cohort, no_cohort, tag, target)"
                .into()),
        ),
        _ => {}
    }
    v.check("selection.tag", validate::tags(&selection.tag));
    if selection.cohort.is_some() && selection.no_cohort {
        v.check(
            "selection.no_cohort",
            Err("`cohort` and `no_cohort` exclude each other".into()),
        );
    }
    let cohort_name = selection
        .cohort
        .as_deref()
        .is_some_and(|c| CohortId::parse(c).is_none());
    if cohort_name && selection.product.is_none() && !implied_product {
        v.check(
            "selection.cohort",
            Err("a cohort name needs `product` too; or pass the cohort's ID".into()),
        );
    }
}

/// Fills the selection table. Returns the named devices that do not exist (none for filters).
/// `implied_product` limits a filter selection that names no product.
async fn select(
    conn: &mut Conn,
    principal: &Principal,
    selection: &Selection,
    implied_product: Option<&Product>,
) -> ApiResult<Vec<String>> {
    let org = &principal.org_id;
    sql::reset_selection(conn).await?;
    if let Some(devices) = &selection.devices {
        let (ids, identifiers): (Vec<String>, Vec<String>) = devices
            .iter()
            .map(|d| d.trim().to_owned())
            .partition(|d| DeviceId::parse(d).is_some());
        sql::select_named(conn, org, &ids, &identifiers).await?;
        // A product-scoped key cannot see other products' devices: to it they do not exist.
        if let Some(scope) = principal.scope() {
            sql::restrict_to(conn, scope).await?;
        }
        sql::analyze_selection(conn).await?;
        let mut missing = sql::missing(conn, &ids, &identifiers).await?;
        let mut seen = std::collections::HashSet::new();
        missing.retain(|m| seen.insert(m.clone()));
        return Ok(missing);
    }
    let product = match &selection.product {
        Some(reference) => Some(visible_product(conn, principal, reference).await?),
        None => implied_product.cloned(),
    };
    let cohort_id = match &selection.cohort {
        Some(reference) => Some(filter_cohort_id(conn, org, product.as_ref(), reference).await?),
        None => None,
    };
    let cohort = match (&cohort_id, selection.no_cohort) {
        (Some(id), _) => CohortFilter::Is(id),
        (None, true) => CohortFilter::None,
        (None, false) => CohortFilter::Any,
    };
    let filter = Filter {
        product_id: product.as_ref().map(|p| &p.id),
        cohort,
        tags: &selection.tag,
        target: selection.target.as_deref(),
    };
    sql::select_filtered(conn, org, &filter).await?;
    if let Some(scope) = principal.scope() {
        sql::restrict_to(conn, scope).await?;
    }
    sql::analyze_selection(conn).await?;
    Ok(Vec::new())
}

/// "`a`, `b`, `c` and 17 more": the first few of `total` items.
fn some_of(items: &[String], total: u64) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(SAMPLE_MAX)
        .map(|i| format!("`{i}`"))
        .collect();
    let rest = total.saturating_sub(shown.len() as u64);
    if rest == 0 {
        shown.join(", ")
    } else {
        format!("{} and {rest} more", shown.join(", "))
    }
}

/// 409 for named devices that do not exist.
fn missing_error(missing: &[String], verb: &str) -> ApiError {
    let count = missing.len();
    let noun = if count == 1 {
        "device does"
    } else {
        "devices do"
    };
    ApiError::conflict(format!(
        "{count} selected {noun} not exist: {}; nothing was {verb}",
        some_of(missing, count as u64)
    ))
    .with_hint("check the identifiers with `fleet device show`, or leave them out")
}

/// How many items of a list an answer with `listing` carries (`None`: all).
fn cap(listing: BulkListing) -> Option<usize> {
    match listing {
        BulkListing::Sample => Some(SAMPLE_MAX),
        BulkListing::Devices | BulkListing::Ids => None,
    }
}

/// The dry-run refusals of selected devices outside `product`.
fn outside_refusals(examples: Vec<(String, String)>, product: &Product) -> Vec<Refusal> {
    examples
        .into_iter()
        .map(|(device, in_product)| Refusal {
            device,
            reason: format!("in product `{in_product}`, not `{}`", product.name),
        })
        .collect()
}

/// 409 for `outside` selected devices not in `product` (`examples`: some of them), which
/// `rule` says must be; nothing was `verb`.
fn outside_error(
    outside: u64,
    examples: Vec<(String, String)>,
    product: &Product,
    rule: &str,
    verb: &str,
) -> ApiError {
    let names: Vec<String> = examples.into_iter().map(|(device, _)| device).collect();
    let noun = if outside == 1 {
        "device is"
    } else {
        "devices are"
    };
    ApiError::conflict(format!(
        "{outside} selected {noun} not in product `{}`: {}; {rule}; nothing was {verb}",
        product.name,
        some_of(&names, outside)
    ))
    .with_hint("move them first with `fleet device move`, or leave them out")
}

fn missing_refusals(missing: &[String], listing: BulkListing) -> Vec<Refusal> {
    missing
        .iter()
        .take(cap(listing).unwrap_or(usize::MAX))
        .map(|device| Refusal {
            device: device.clone(),
            reason: "no such device".into(),
        })
        .collect()
}

/// Fills the answer's device list per `listing`: the changed devices as they are now, or (in
/// a dry run, `planned_at` set) as `change` would leave them at that time.
async fn list_changed(
    conn: &mut Conn,
    change: &Change<'_>,
    listing: BulkListing,
    planned_at: Option<DateTime<Utc>>,
    result: &mut BulkResult,
) -> ApiResult<()> {
    if listing == BulkListing::Ids {
        result.device_ids = bulk_devices::changed_ids(conn, change).await?;
        return Ok(());
    }
    let mut devices = bulk_devices::changed(conn, change, cap(listing)).await?;
    if let Some(now) = planned_at {
        for device in &mut devices {
            project(device, change, now);
        }
    }
    result.devices = devices;
    Ok(())
}

/// `device` as `change` would leave it at `now` (the fields `sql::apply` writes).
fn project(device: &mut Device, change: &Change<'_>, now: DateTime<Utc>) {
    match change {
        Change::Move {
            to_product,
            to_cohort,
        } => {
            device.product_id = to_product.id.clone();
            device.product = to_product.name.clone();
            device.cohort_id = to_cohort.map(|c| c.id.clone());
            device.cohort = to_cohort.map(|c| c.name.clone());
            device.needs_provisioning = true;
        }
        Change::Assign { cohort } => {
            device.cohort_id = Some(cohort.id.clone());
            device.cohort = Some(cohort.name.clone());
        }
        Change::Unassign => {
            device.cohort_id = None;
            device.cohort = None;
        }
        // The device's configuration override changes, not the device.
        Change::Configure { .. } => return,
    }
    device.updated_at = now;
    device.revision += 1;
}

/// The answer to a dry run of `change`: counts, what would change (per `listing`), refusals.
/// `refused_selected` of the `refused` devices exist and were matched, but are no longer in
/// the selection table (they would not change).
async fn plan(
    conn: &mut Conn,
    change: &Change<'_>,
    listing: BulkListing,
    (refused, refused_selected): (u64, u64),
    refusals: Vec<Refusal>,
) -> ApiResult<BulkResult> {
    let (selected, changing) = sql::counts(conn, change).await?;
    let mut result = BulkResult {
        dry_run: true,
        matched: selected + refused_selected,
        changed: changing,
        unchanged: selected.saturating_sub(changing),
        refused,
        refusals,
        ..BulkResult::default()
    };
    list_changed(conn, change, listing, Some(store::now()), &mut result).await?;
    Ok(result)
}

/// Applies `change` to the selection as `principal`, commits, and answers with the counts and
/// the changed devices per `listing`: the one way a move, assign or unassign ends.
/// `fail_after_rows` is the tests' fault injection (the transaction fails after that many
/// rows, to show nothing is half-applied).
async fn apply_and_commit(
    mut tx: Tx,
    principal: &Principal,
    change: &Change<'_>,
    listing: BulkListing,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    let stamp = sql::Stamp {
        org_id: &principal.org_id,
        actor: principal.actor(),
        now: store::now(),
    };
    let (matched, _) = sql::counts(&mut tx, change).await?;
    let changed = sql::apply(&mut tx, change, &stamp, fail_after_rows).await?;
    let mut result = BulkResult {
        matched,
        changed,
        unchanged: matched.saturating_sub(changed),
        ..BulkResult::default()
    };
    list_changed(&mut tx, change, listing, None, &mut result).await?;
    hold::before_commit().await;
    tx.commit().await?;
    Ok(result)
}
