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
/// update state). With `all=true`, every matching device in one streamed answer.
#[utoipa::path(get, path = "/v1/devices", operation_id = "listDevices", tag = "devices", params(DeviceListQuery),
    responses((status = 200, body = Page<Device>,
        description = "A page of devices; with `all=true` every matching device after `cursor`, \
            streamed (chunked) as it is read, with `next_cursor` null. A streamed answer that \
            fails after it started is cut off before its closing `]}`.")))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<DeviceListQuery>,
) -> ApiResult<Response> {
    let online_within = state.device_updates.online_within();
    if query.all == Some(true) {
        let walk =
            domain::device_list::walk(&state.pool, &principal, &query, online_within).await?;
        return Ok(streamed_page_response(walk));
    }
    let page = domain::device_list::list(&state.pool, &principal, &query, online_within).await?;
    Ok(raw_page_response(page.items, page.next_cursor))
}

/// `{"data":[…],"next_cursor":null}` written step by step as the walk reads devices. The
/// walk reads its next step when the connection takes the previous one, so a slow reader
/// slows the walk instead of filling memory. An error mid-walk ends the body without its
/// closing `]}` (the connection is cut), so a client cannot take a partial list for a whole.
fn streamed_page_response(walk: domain::device_list::DeviceWalk) -> Response {
    use bytes::Bytes;
    use futures_util::StreamExt;

    let head = futures_util::stream::once(async { Ok(Bytes::from_static(b"{\"data\":[")) });
    let items = futures_util::stream::unfold((walk, true), |(mut walk, first)| async move {
        match walk.next_items().await {
            Ok(Some(mut array)) => {
                // `[a,b]` becomes `a,b` for the first step and `,a,b` after it, in place.
                if !first {
                    array.replace_range(0..1, ",");
                }
                let end = array.len().saturating_sub(1);
                let start = usize::from(first);
                Some((Ok(Bytes::from(array).slice(start..end)), (walk, false)))
            }
            Ok(None) => None,
            Err(err) => {
                let message = err.body.message;
                tracing::error!(error = %message, "device list stream stopped");
                Some((Err(std::io::Error::other(message)), (walk, first)))
            }
        }
    })
    // After an error the walk is not polled again: the body ends with that error.
    .scan(false, |failed, chunk| {
        let stop = *failed;
        *failed |= chunk.is_err();
        std::future::ready((!stop).then_some(chunk))
    });
    let tail =
        futures_util::stream::once(async { Ok(Bytes::from_static(b"],\"next_cursor\":null}")) });
    let body = axum::body::Body::from_stream(head.chain(items).chain(tail));
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
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
