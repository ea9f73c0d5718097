//! `/v1/devices/{device}/certificates`: a device's X.509 client certificates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::firmware::PageQuery;
use crate::api::{AddDeviceCert, DeviceCertificate, Page, RevokeDeviceCert};
use crate::server::auth::Principal;
use crate::server::domain;
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::AppState;

/// List a device's certificates, oldest first, revoked ones included.
#[utoipa::path(get, path = "/v1/devices/{device}/certificates", operation_id = "listDeviceCerts", tag = "identity",
    params(("device" = String, Path, description = "Device identifier or ID"), PageQuery),
    responses((status = 200, body = Page<DeviceCertificate>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<DeviceCertificate>>> {
    let page = domain::device_certs::list(
        &state.pool,
        &principal,
        &device,
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}

/// Register a certificate for a device: its subject CN must be the device's identifier and
/// a CA of the device's product must have issued it.
#[utoipa::path(post, path = "/v1/devices/{device}/certificates", operation_id = "addDeviceCert", tag = "identity", request_body = AddDeviceCert,
    params(("device" = String, Path, description = "Device identifier or ID")),
    responses((status = 201, body = DeviceCertificate)))]
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    ApiJson(body): ApiJson<AddDeviceCert>,
) -> ApiResult<Response> {
    let cert = domain::device_certs::add(&state.pool, &principal, &device, body).await?;
    Ok((StatusCode::CREATED, Json(cert)).into_response())
}

/// Revoke a device certificate; the device API refuses it from then on. Revoking a revoked
/// certificate changes nothing and answers the same.
#[utoipa::path(post, path = "/v1/devices/{device}/certificates/{cert}/revoke", operation_id = "revokeDeviceCert", tag = "identity", request_body = RevokeDeviceCert,
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("cert" = String, Path, description = "Certificate ID")),
    responses((status = 200, body = DeviceCertificate)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((device, cert)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RevokeDeviceCert>,
) -> ApiResult<Json<DeviceCertificate>> {
    let names = (device.as_str(), cert.as_str());
    let cert = domain::device_certs::revoke(&state.pool, &principal, names, body).await?;
    Ok(Json(cert))
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(list, Access::read()),
        route!(add, Access::write()),
        route!(revoke, Access::write()),
    ]
}
