//! Devices: registered in one product (and optionally one of its cohorts), unique by
//! identifier in the organization. The field rules of a new device are shared with bulk import.

use super::lookup::{archived, find_cohort, product_or_404, unknown_device, writable_product};
use super::{Validator, audit, check_revision, out_of_scope, unique_or};
use crate::api::{AuditAction, validate};
use crate::api::{Cohort, CohortId, CreateDevice, Device, DeviceId, OrgId, Product, UpdateDevice};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::{self, Conn, Pool, devices::Fields};

fn duplicate(identifier: &str) -> ApiError {
    ApiError::conflict(format!(
        "a device with identifier `{identifier}` already exists"
    ))
    .with_hint(format!("show it with `fleet device show {identifier}`"))
}

/// The refusal for an identifier some device holds: `duplicate` when the caller sees that
/// device, else the scoped refusal that does not say it exists.
async fn identifier_refusal(
    conn: &mut Conn,
    principal: &Principal,
    identifier: &str,
) -> ApiResult<ApiError> {
    let holder = store::devices::resolve(conn, &principal.org_id, identifier).await?;
    Ok(match holder {
        Some(device) if !principal.sees(&device.product_id) => out_of_scope::identifier(identifier),
        _ => duplicate(identifier),
    })
}

/// The rules every new device's fields follow, through the API or bulk import: each broken one
/// as (field, message), in field order.
pub fn new_device_problems(
    identifier: &str,
    description: Option<&str>,
    tags: Option<&[String]>,
    target: Option<&str>,
) -> Vec<(&'static str, String)> {
    let checks = [
        ("identifier", Some(validate::device_identifier(identifier))),
        ("description", description.map(validate::description)),
        ("tags", tags.map(validate::tags)),
        ("target", target.map(validate::target)),
    ];
    checks
        .into_iter()
        .filter_map(|(field, result)| Some((field, result?.err()?)))
        .collect()
}

async fn device_or_404(conn: &mut Conn, org_id: &OrgId, reference: &str) -> ApiResult<Device> {
    store::devices::resolve(conn, org_id, reference)
        .await?
        .ok_or_else(|| unknown_device(reference))
}

/// The cohort a device body names: it must be a cohort of the device's product (422 otherwise).
/// A cohort of a product the caller cannot see is answered as if there were none.
async fn cohort_for_device(
    conn: &mut Conn,
    principal: &Principal,
    product: &Product,
    reference: &str,
) -> ApiResult<Cohort> {
    let org_id = &principal.org_id;
    if let Some(cohort) = find_cohort(conn, org_id, product, reference).await? {
        return Ok(cohort);
    }
    let elsewhere = match CohortId::parse(reference) {
        Some(id) => store::cohorts::get(conn, org_id, &id)
            .await?
            .filter(|other| principal.sees(&other.product_id)),
        None => None,
    };
    let message = match elsewhere {
        Some(other) => format!(
            "cohort `{}` belongs to product `{}`, not `{}`; a device's cohort must be in the device's product",
            other.name, other.product, product.name
        ),
        None => format!("product `{}` has no cohort `{reference}`", product.name),
    };
    Err(
        ApiError::invalid_field("cohort", message).with_hint(format!(
            "list the product's cohorts with `fleet cohort list --product {}`",
            product.name
        )),
    )
}

/// Registers a device in a product (not archived, within the caller's scope) and optionally
/// one of its cohorts.
pub async fn create(pool: &Pool, principal: &Principal, body: CreateDevice) -> ApiResult<Device> {
    let description = body.description.unwrap_or_default();
    let tags = validate::normalize_tags(body.tags);
    let mut v = Validator::default();
    let problems = new_device_problems(
        &body.identifier,
        Some(&description),
        Some(&tags),
        body.target.as_deref(),
    );
    for (field, message) in problems {
        v.check(field, Err(message));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = writable_product(&mut tx, principal, &body.product).await?;
    if product.archived {
        return Err(archived(&product, "devices"));
    }
    let cohort = match &body.cohort {
        Some(reference) => Some(cohort_for_device(&mut tx, principal, &product, reference).await?),
        None => None,
    };
    if store::devices::identifier_taken(&mut tx, org, &body.identifier).await? {
        return Err(identifier_refusal(&mut tx, principal, &body.identifier).await?);
    }
    let id = DeviceId::generate();
    let fields = Fields {
        product_id: &product.id,
        cohort_id: cohort.as_ref().map(|c| &c.id),
        description: &description,
        tags: &tags,
        target: body.target.as_deref(),
        quarantined: false,
    };
    store::devices::insert(&mut tx, org, &id, &body.identifier, &fields, store::now())
        .await
        .map_err(|err| {
            // Taken since the check above: by a device the caller may not see, for all it knows.
            unique_or(err, || match principal.scope() {
                Some(_) => out_of_scope::identifier(&body.identifier),
                None => duplicate(&body.identifier),
            })
        })?;
    let device = device_or_404(&mut tx, org, id.as_str()).await?;
    let details = serde_json::json!({ "identifier": device.identifier, "cohort": device.cohort });
    let (did, pid) = (id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::DeviceCreated,
        did,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(device)
}

/// The device `reference` (identifier or ID).
pub async fn get(pool: &Pool, principal: &Principal, reference: &str) -> ApiResult<Device> {
    let mut conn = pool.acquire().await?;
    device_or_404(&mut conn, &principal.org_id, reference).await
}

/// Updates a device at revision `if_match` (when given): cohort (within its product; `null`
/// clears), tags, target, quarantine, description.
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    reference: &str,
    if_match: Option<i64>,
    body: UpdateDevice,
) -> ApiResult<Device> {
    let mut v = Validator::default();
    if let Some(description) = &body.description {
        v.check("description", validate::description(description));
    }
    if let Some(tags) = &body.tags {
        v.check("tags", validate::tags(tags));
    }
    v.check("add_tags", validate::tags(&body.add_tags));
    v.check("remove_tags", validate::tags(&body.remove_tags));
    if let Some(Some(target)) = &body.target {
        v.check("target", validate::target(target));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let current = device_or_404(&mut tx, org, reference).await?;
    let what = format!("device `{}`", current.identifier);
    check_revision(if_match, &what, current.revision)?;
    let cohort_id = match &body.cohort {
        None => current.cohort_id.clone(),
        Some(None) => None,
        Some(Some(cohort)) => {
            let product = product_or_404(&mut tx, org, current.product_id.as_str()).await?;
            Some(
                cohort_for_device(&mut tx, principal, &product, cohort)
                    .await?
                    .id,
            )
        }
    };
    let mut tags = body.tags.clone().unwrap_or_else(|| current.tags.clone());
    tags.extend(body.add_tags.iter().cloned());
    tags.retain(|t| !body.remove_tags.contains(t));
    let tags = validate::normalize_tags(tags);
    let mut v = Validator::default();
    v.check("tags", validate::tags(&tags));
    v.finish()?;
    let fields = Fields {
        product_id: &current.product_id,
        cohort_id: cohort_id.as_ref(),
        description: body.description.as_deref().unwrap_or(&current.description),
        tags: &tags,
        target: match &body.target {
            None => current.target.as_deref(),
            Some(target) => target.as_deref(),
        },
        quarantined: body.quarantined.unwrap_or(current.quarantined),
    };
    let unchanged = fields.cohort_id == current.cohort_id.as_ref()
        && fields.description == current.description
        && fields.tags == current.tags.as_slice()
        && fields.target == current.target.as_deref()
        && fields.quarantined == current.quarantined;
    if unchanged {
        return Ok(current);
    }
    store::devices::update(&mut tx, &current.id, &fields, store::now()).await?;
    let device = device_or_404(&mut tx, org, current.id.as_str()).await?;
    let details = serde_json::json!({
        "identifier": device.identifier, "cohort": device.cohort,
        "quarantined": device.quarantined,
    });
    let (did, pid) = (device.id.as_str(), &device.product_id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::DeviceUpdated,
        did,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(device)
}

/// Deletes a device at revision `if_match` (when given).
pub async fn delete(
    pool: &Pool,
    principal: &Principal,
    reference: &str,
    if_match: Option<i64>,
) -> ApiResult<()> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let device = device_or_404(&mut tx, org, reference).await?;
    let what = format!("device `{}`", device.identifier);
    check_revision(if_match, &what, device.revision)?;
    store::devices::delete(&mut tx, &device.id).await?;
    let details = serde_json::json!({ "identifier": device.identifier });
    let (did, pid) = (device.id.as_str(), &device.product_id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::DeviceDeleted,
        did,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
