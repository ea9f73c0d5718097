//! `/v1/devices`: create, list (the hot path: one joined query per page), show, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::resource;
use crate::api::{CreateDevice, Device, DeviceListQuery, Page, UpdateDevice};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::pagination::raw_page_response;
use crate::server::state::AppState;

/// List devices in creation order, filtered by product, cohort, tags (all must match), target,
/// quarantine state, and what their check-ins and reports said (online, seen within, running,
/// update state).
#[utoipa::path(get, path = "/v1/devices", operation_id = "listDevices", tag = "devices", params(DeviceListQuery),
    responses((status = 200, body = Page<Device>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<DeviceListQuery>,
) -> ApiResult<Response> {
    let online_within = state.device_updates.online_within();
    let page = domain::devices::list(&state.pool, &principal, &query, online_within).await?;
    Ok(raw_page_response(page.items, page.next_cursor))
}

/// Register a device in a product (and optionally one of its cohorts).
#[utoipa::path(post, path = "/v1/devices", operation_id = "createDevice", tag = "devices", request_body = CreateDevice,
    responses((status = 201, body = Device)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateDevice>,
) -> ApiResult<Response> {
    let device = domain::devices::create(&state.pool, &principal, body).await?;
    let location = format!("/v1/devices/{}", device.id);
    Ok(resource(
        StatusCode::CREATED,
        &device,
        device.revision,
        Some(location),
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
    let device = domain::devices::get(&state.pool, &principal, &reference).await?;
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
    let device =
        domain::devices::update(&state.pool, &principal, &reference, if_match.0, body).await?;
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
    domain::devices::delete(&state.pool, &principal, &reference, if_match.0).await?;
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
