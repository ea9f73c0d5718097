//! Device import: create devices in one product from rows. Every row is validated first (with
//! the same rules as a single new device) and all bad rows are reported together (nothing is
//! created if any is bad); existing identical devices are skipped, so re-importing a file
//! changes nothing. The rows are loaded into a table and written set-based.

use std::collections::HashMap;

use axum::http::StatusCode;

use super::{begin, cap};
use crate::api::bulk::MAX_SELECTED;
use crate::api::{
    BulkListing, BulkResult, DeviceId, ErrorCode, FieldError, ImportDevices, OrgId, Product,
    Refusal, validate,
};
use crate::server::auth::Principal;
use crate::server::domain::devices::new_device_problems;
use crate::server::domain::lookup::{archived, find_cohort, writable_product};
use crate::server::domain::out_of_scope;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::bulk::FailAfterRows;
use crate::server::store::bulk::{Stamp, id_base};
use crate::server::store::bulk_devices;
use crate::server::store::bulk_import::{self as sql, Row};
use crate::server::store::{self, Conn, Pool, tags_to_text};

/// Imports devices into a product, all or none (or plans it, for a dry run). Rows naming an
/// existing identical device are skipped; an identifier taken by a different device is a
/// conflict (409) unless `update` is set and the device is in the same product.
pub async fn import(
    pool: &Pool,
    principal: &Principal,
    body: &ImportDevices,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    if body.devices.len() > MAX_SELECTED {
        return Err(ApiError::invalid_field(
            "devices",
            format!(
                "{} rows given; the limit is {MAX_SELECTED} per request",
                body.devices.len()
            ),
        ));
    }
    let org = &principal.org_id;
    let mut tx = begin(pool, body.dry_run).await?;
    let product = writable_product(&mut tx, principal, &body.product).await?;
    if product.archived {
        return Err(archived(&product, "devices"));
    }
    let mut cohorts = CohortCache::default();
    let default_cohort = match &body.cohort {
        Some(reference) => Some(
            cohorts
                .resolve(&mut tx, org, &product, reference)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "cohort",
                        format!("product `{}` has no cohort `{reference}`", product.name),
                    )
                })?,
        ),
        None => None,
    };

    // Normalized tags, by row, kept alive for the borrowed rows below.
    let tags: Vec<Option<Vec<String>>> = body
        .devices
        .iter()
        .map(|r| r.tags.clone().map(validate::normalize_tags))
        .collect();
    let mut bad = Vec::new();
    let mut rows = Vec::with_capacity(body.devices.len());
    let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(body.devices.len());
    for (index, (row, tags)) in body.devices.iter().zip(&tags).enumerate() {
        let line = row.line.unwrap_or(index as u64 + 1);
        let mut problems = Vec::new();
        let rules = new_device_problems(
            &row.identifier,
            row.description.as_deref(),
            tags.as_deref(),
            row.target.as_deref(),
        );
        let identifier_valid = rules
            .first()
            .is_none_or(|(field, _)| *field != "identifier");
        if identifier_valid && let Some(first) = first_line.insert(&row.identifier, line) {
            problems.push(format!(
                "identifier `{}` already appears on line {first}",
                row.identifier
            ));
        }
        problems.extend(rules.into_iter().map(|(_, message)| message));
        let cohort_id = match &row.cohort {
            Some(reference) => match cohorts.resolve(&mut tx, org, &product, reference).await? {
                Some(id) => Some(id),
                None => {
                    problems.push(format!(
                        "product `{}` has no cohort `{reference}`",
                        product.name
                    ));
                    None
                }
            },
            None => default_cohort.clone(),
        };
        if !problems.is_empty() {
            bad.push(FieldError {
                field: format!("line {line}"),
                message: problems.join("; "),
            });
            continue;
        }
        rows.push((line, row, tags, cohort_id));
    }
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|(line, row, tags, cohort_id)| Row {
            line: *line,
            identifier: &row.identifier,
            description: row.description.as_deref(),
            tags: tags.as_deref().map(tags_to_text),
            target: row.target.as_deref(),
            cohort_id: cohort_id.as_deref(),
        })
        .collect();

    sql::load(&mut tx, org, &rows, &id_base(DeviceId::generate().as_str())).await?;
    let counts = sql::counts(&mut tx, &product.id).await?;
    let conflicts = sql::conflicts(&mut tx, &product.id, body.update).await?;
    if !bad.is_empty() {
        // The valid rows were loaded only to find their conflicts too, so one answer lists
        // every problem of the file; dropping the transaction discards them.
        let invalid = bad.len();
        bad.extend(
            conflicts
                .iter()
                .map(|c| conflict_field(c, &product, principal)),
        );
        bad.sort_by_key(|field| line_of(&field.field));
        return Err(invalid_rows(bad, invalid, body.devices.len()));
    }
    let updating = if body.update { counts.differing } else { 0 };
    let mut result = BulkResult {
        dry_run: body.dry_run,
        matched: rows.len() as u64,
        unchanged: counts.same,
        ..BulkResult::default()
    };
    if body.dry_run {
        result.created = counts.new;
        result.updated = updating;
        result.changed = counts.new + updating;
        result.refused = conflicts.len() as u64;
        result.refusals = conflicts
            .iter()
            .take(cap(body.list).unwrap_or(usize::MAX))
            .map(|c| Refusal {
                device: c.identifier.clone(),
                reason: conflict_reason(c, &product, principal),
            })
            .collect();
        match body.list {
            BulkListing::Ids => {
                result.device_ids = bulk_devices::imported_ids(&mut tx, body.update).await?;
            }
            listing => {
                let limit = cap(listing);
                result.devices = bulk_devices::would_import(
                    &mut tx,
                    &product.id,
                    body.update,
                    store::now(),
                    limit,
                )
                .await?;
            }
        }
        return Ok(result);
    }
    if !conflicts.is_empty() {
        return Err(conflict_error(&conflicts, &product, principal));
    }
    let stamp = Stamp {
        org_id: org,
        actor: principal.actor(),
        now: store::now(),
    };
    let (created, updated) =
        sql::apply(&mut tx, &product.id, body.update, &stamp, fail_after_rows).await?;
    result.created = created;
    result.updated = updated;
    result.changed = created + updated;
    match body.list {
        BulkListing::Ids => {
            result.device_ids = bulk_devices::imported_ids(&mut tx, body.update).await?;
        }
        listing => {
            result.devices = bulk_devices::imported(&mut tx, body.update, cap(listing)).await?;
        }
    }
    tx.commit().await?;
    Ok(result)
}

/// Cohort references resolved once each: a file names the same few cohorts on many rows.
#[derive(Default)]
struct CohortCache(HashMap<String, Option<String>>);

impl CohortCache {
    async fn resolve(
        &mut self,
        conn: &mut Conn,
        org: &OrgId,
        product: &Product,
        reference: &str,
    ) -> ApiResult<Option<String>> {
        if let Some(found) = self.0.get(reference) {
            return Ok(found.clone());
        }
        let found = find_cohort(conn, org, product, reference)
            .await?
            .map(|c| c.id.as_str().to_owned());
        self.0.insert(reference.to_owned(), found.clone());
        Ok(found)
    }
}

/// `bad` lists the `invalid` rows and, after them in line order, the conflicting ones.
fn invalid_rows(bad: Vec<FieldError>, invalid: usize, total: usize) -> ApiError {
    let verb = |count: usize| if count == 1 { "is" } else { "are" };
    let conflicting = bad.len() - invalid;
    let also = match conflicting {
        0 => String::new(),
        1 => " and 1 names an identifier already in use".to_owned(),
        n => format!(" and {n} name identifiers already in use"),
    };
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
        format!(
            "{invalid} of {total} rows {} invalid{also}; nothing was imported",
            verb(invalid)
        ),
    );
    err.body.fields = bad;
    err.with_hint("fix the rows listed and import the file again")
}

/// A device the caller cannot see holds the row's identifier.
fn hidden(conflict: &sql::Existing, principal: &Principal) -> bool {
    conflict.elsewhere && !principal.sees(&conflict.product_id)
}

fn conflict_reason(conflict: &sql::Existing, product: &Product, principal: &Principal) -> String {
    if hidden(conflict, principal) {
        out_of_scope::IDENTIFIER_REASON.to_owned()
    } else if conflict.elsewhere {
        format!(
            "a device with this identifier is in product `{}`",
            conflict.product
        )
    } else {
        format!(
            "a device with this identifier exists in `{}` with different values",
            product.name
        )
    }
}

fn conflict_field(
    conflict: &sql::Existing,
    product: &Product,
    principal: &Principal,
) -> FieldError {
    FieldError {
        field: format!("line {}", conflict.line),
        message: format!(
            "`{}`: {}",
            conflict.identifier,
            conflict_reason(conflict, product, principal)
        ),
    }
}

/// The line number of a `line N` field, for ordering.
fn line_of(field: &str) -> u64 {
    field
        .strip_prefix("line ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

fn conflict_error(
    conflicts: &[sql::Existing],
    product: &Product,
    principal: &Principal,
) -> ApiError {
    let count = conflicts.len();
    let rows = if count == 1 { "row names" } else { "rows name" };
    let any_hidden = conflicts.iter().any(|c| hidden(c, principal));
    let mut err = ApiError::conflict(if any_hidden {
        format!("{count} {rows} identifiers this import may not use; nothing was imported")
    } else {
        format!(
            "{count} {rows} identifiers of existing devices with different values or in another product; nothing was imported"
        )
    });
    err.body.fields = conflicts
        .iter()
        .map(|c| conflict_field(c, product, principal))
        .collect();
    let hint = if any_hidden {
        "leave the rows listed out, or give those devices other identifiers"
    } else if conflicts.iter().all(|c| !c.elsewhere) {
        "pass --update (`update: true`) to overwrite them with the file's values"
    } else {
        "devices in another product move with `fleet device move`; leave those rows out"
    };
    err.with_hint(hint)
}
