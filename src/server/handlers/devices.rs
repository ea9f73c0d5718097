//! `/v1/devices`: create, list (the hot path: one joined query per page), show, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{
    Validator, archived, audit, filter_cohort_id, find_cohort, product_or_404, resource, unique_or,
    unknown_device, visible_product,
};
use crate::api::{
    Cohort, CohortId, CreateDevice, Device, DeviceId, DeviceListQuery, Page, Product, UpdateDevice,
    validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::pagination::{PageRequest, encode_cursor, raw_page_response};
use crate::server::state::AppState;
use crate::server::store::{self, Conn, devices::Fields};

fn duplicate(identifier: &str) -> ApiError {
    ApiError::conflict(format!(
        "a device with identifier `{identifier}` already exists"
    ))
    .with_hint(format!("show it with `fleet device show {identifier}`"))
}

async fn device_or_404(conn: &mut Conn, org_id: &str, reference: &str) -> ApiResult<Device> {
    store::devices::resolve(conn, org_id, reference)
        .await?
        .ok_or_else(|| unknown_device(reference))
}

/// The cohort a device body names: it must be a cohort of the device's product (422 otherwise).
async fn cohort_for_device(
    conn: &mut Conn,
    org_id: &str,
    product: &Product,
    reference: &str,
) -> ApiResult<Cohort> {
    if let Some(cohort) = find_cohort(conn, org_id, product, reference).await? {
        return Ok(cohort);
    }
    let elsewhere = match CohortId::parse(reference) {
        Some(id) => store::cohorts::get(conn, org_id, &id).await?,
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

/// List devices in creation order, filtered by product, cohort, tags (all must match), target
/// and quarantine state.
#[utoipa::path(get, path = "/v1/devices", operation_id = "listDevices", tag = "devices", params(DeviceListQuery),
    responses((status = 200, body = Page<Device>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<DeviceListQuery>,
) -> ApiResult<Response> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), DeviceId::parse)?;
    let mut v = Validator::default();
    v.check("tag", validate::tags(&query.tag));
    if query
        .cohort
        .as_deref()
        .is_some_and(|c| CohortId::parse(c).is_none())
        && query.product.is_none()
    {
        v.check(
            "cohort",
            Err("a cohort name needs `product` too; or pass the cohort's ID".into()),
        );
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut conn = state.pool.acquire().await?;
    let product = match &query.product {
        Some(reference) => Some(visible_product(&mut conn, &principal, reference).await?),
        None => None,
    };
    let cohort_id = match &query.cohort {
        Some(reference) => {
            Some(filter_cohort_id(&mut conn, org, product.as_ref(), reference).await?)
        }
        None => None,
    };
    let filter = store::devices::ListFilter {
        product_id: product.as_ref().map(|p| &p.id),
        cohort_id: cohort_id.as_ref(),
        tags: &query.tag,
        target: query.target.as_deref(),
        quarantined: query.quarantined,
        after: page.after.as_deref(),
        limit: page.limit,
    };
    let json = store::devices::list_page_json(&mut conn, org, &filter, principal.scope()).await?;
    let next_cursor = json
        .last_id
        .filter(|_| json.more)
        .map(|last| encode_cursor(&last));
    Ok(raw_page_response(json.items, next_cursor))
}

/// Register a device in a product (and optionally one of its cohorts).
#[utoipa::path(post, path = "/v1/devices", operation_id = "createDevice", tag = "devices", request_body = CreateDevice,
    responses((status = 201, body = Device)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateDevice>,
) -> ApiResult<Response> {
    let description = body.description.unwrap_or_default();
    let tags = validate::normalize_tags(body.tags);
    let mut v = Validator::default();
    v.check("identifier", validate::device_identifier(&body.identifier));
    v.check("description", validate::description(&description));
    v.check("tags", validate::tags(&tags));
    if let Some(target) = &body.target {
        v.check("target", validate::target(target));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let found = product_or_404(&mut tx, org, &body.product).await;
    // A scoped key learns nothing about products outside its scope: 403 whether or not it exists.
    principal.check_writable(found.as_ref().ok().map(|p| &p.id), &body.product)?;
    let product = found?;
    if product.archived {
        return Err(archived(&product, "devices"));
    }
    let cohort = match &body.cohort {
        Some(reference) => Some(cohort_for_device(&mut tx, org, &product, reference).await?),
        None => None,
    };
    if store::devices::identifier_taken(&mut tx, org, &body.identifier).await? {
        return Err(duplicate(&body.identifier));
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
        .map_err(|err| unique_or(err, || duplicate(&body.identifier)))?;
    let device = device_or_404(&mut tx, org, id.as_str()).await?;
    let details = serde_json::json!({ "identifier": device.identifier, "cohort": device.cohort });
    let (did, pid) = (id.as_str(), product.id.as_str());
    audit(&mut tx, &principal, "device.created", did, pid, details).await?;
    tx.commit().await?;
    Ok(resource(
        StatusCode::CREATED,
        &device,
        device.revision,
        Some(format!("/v1/devices/{id}")),
    ))
}

/// Show a device by identifier or ID.
#[utoipa::path(get, path = "/v1/devices/{device}", operation_id = "getDevice", tag = "devices",
    params(("device" = String, Path, description = "Device identifier or ID")),
    responses((status = 200, body = Device)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let device = device_or_404(&mut conn, &principal.org_id, &reference).await?;
    Ok(resource(StatusCode::OK, &device, device.revision, None))
}

/// Update a device: cohort (within its product; `null` clears), tags, target, quarantine,
/// description. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/devices/{device}", operation_id = "updateDevice", tag = "devices", request_body = UpdateDevice,
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Device)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateDevice>,
) -> ApiResult<Response> {
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
    let mut tx = store::begin_write(&state.pool).await?;
    let current = device_or_404(&mut tx, org, &reference).await?;
    if_match.check(
        &format!("device `{}`", current.identifier),
        current.revision,
    )?;
    let cohort_id = match &body.cohort {
        None => current.cohort_id.clone(),
        Some(None) => None,
        Some(Some(cohort)) => {
            let product = product_or_404(&mut tx, org, current.product_id.as_str()).await?;
            Some(cohort_for_device(&mut tx, org, &product, cohort).await?.id)
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
        return Ok(resource(StatusCode::OK, &current, current.revision, None));
    }
    store::devices::update(&mut tx, &current.id, &fields, store::now()).await?;
    let device = device_or_404(&mut tx, org, current.id.as_str()).await?;
    let details = serde_json::json!({
        "identifier": device.identifier, "cohort": device.cohort,
        "quarantined": device.quarantined,
    });
    let (did, pid) = (device.id.as_str(), device.product_id.as_str());
    audit(&mut tx, &principal, "device.updated", did, pid, details).await?;
    tx.commit().await?;
    Ok(resource(StatusCode::OK, &device, device.revision, None))
}

/// Delete a device. Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/devices/{device}", operation_id = "deleteDevice", tag = "devices",
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let device = device_or_404(&mut tx, org, &reference).await?;
    if_match.check(&format!("device `{}`", device.identifier), device.revision)?;
    store::devices::delete(&mut tx, &device.id).await?;
    let details = serde_json::json!({ "identifier": device.identifier });
    let (did, pid) = (device.id.as_str(), device.product_id.as_str());
    audit(&mut tx, &principal, "device.deleted", did, pid, details).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(list, Access::read()),
        route!(create, Access::write()),
        route!(get, Access::read()),
        route!(update, Access::write()),
        route!(delete, Access::write()),
    ]
}
