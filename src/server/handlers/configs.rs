//! `…/config` of a product, a cohort and a device (show, replace, patch, revisions, diff,
//! rollback) and `/v1/products/{product}/config/schema`: adapters over `domain::configs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::resource;
use crate::api::config::{
    Config, ConfigDiff, ConfigDiffQuery, ConfigQuery, ConfigRevisionPage, ConfigRevisionQuery,
    ConfigSchema, PatchConfig, PutConfig, PutConfigSchema, RollbackConfig,
};
use crate::server::auth::Principal;
use crate::server::domain::configs::{self, Target, schemas, write};
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::state::AppState;

/// A level's document with its revision as the `ETag`.
fn answer(config: Config) -> Response {
    resource(StatusCode::OK, &config, config.revision, None)
}

/// Shows a product's configuration; `effective=true` merges the levels above it in (product ← cohort ← device).
/// Secret values read `"***"`.
#[utoipa::path(get, path = "/v1/products/{product}/config", operation_id = "getProductConfig", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"), ConfigQuery),
    responses((status = 200, body = Config)))]
pub async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Response> {
    let effective = query.effective.unwrap_or(false);
    let config = configs::show(
        &state.pool,
        &principal,
        Target::Product(&product),
        effective,
    )
    .await?;
    Ok(answer(config))
}

/// Replaces the product's document whole, as a new revision. Honours `If-Match`.
#[utoipa::path(put, path = "/v1/products/{product}/config", operation_id = "putProductConfig", tag = "configs", request_body = PutConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn put_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PutConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::put(
        &state.pool,
        caches,
        &principal,
        Target::Product(&product),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// Sets and removes keys of the product's document by dotted path, as a new revision. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/config", operation_id = "patchProductConfig", tag = "configs", request_body = PatchConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn patch_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::patch(
        &state.pool,
        caches,
        &principal,
        Target::Product(&product),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// The revisions of the product's document, newest first.
#[utoipa::path(get, path = "/v1/products/{product}/config/revisions", operation_id = "listProductConfigRevisions", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"), ConfigRevisionQuery),
    responses((status = 200, body = ConfigRevisionPage)))]
pub async fn revisions_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigRevisionQuery>,
) -> ApiResult<Json<ConfigRevisionPage>> {
    let page = configs::history(&state.pool, &principal, Target::Product(&product), &query).await?;
    Ok(Json(page))
}

/// What changed in the product's document between two revisions.
#[utoipa::path(get, path = "/v1/products/{product}/config/diff", operation_id = "diffProductConfig", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"), ConfigDiffQuery),
    responses((status = 200, body = ConfigDiff)))]
pub async fn diff_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigDiffQuery>,
) -> ApiResult<Json<ConfigDiff>> {
    let diff = configs::diff(
        &state.pool,
        &principal,
        Target::Product(&product),
        query.from,
        query.to,
    )
    .await?;
    Ok(Json(diff))
}

/// Makes an earlier revision's document the product's document again, as a new revision. Honours `If-Match`.
#[utoipa::path(post, path = "/v1/products/{product}/config/rollback", operation_id = "rollbackProductConfig", tag = "configs", request_body = RollbackConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn rollback_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<RollbackConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::rollback(
        &state.pool,
        caches,
        &principal,
        Target::Product(&product),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// Shows a cohort's configuration override; `effective=true` merges the levels above it in (product ← cohort ← device).
/// Secret values read `"***"`.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts/{cohort}/config", operation_id = "getCohortConfig", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"), ConfigQuery),
    responses((status = 200, body = Config)))]
pub async fn get_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Response> {
    let effective = query.effective.unwrap_or(false);
    let config = configs::show(
        &state.pool,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        effective,
    )
    .await?;
    Ok(answer(config))
}

/// Replaces the cohort's override whole, as a new revision. Honours `If-Match`.
#[utoipa::path(put, path = "/v1/products/{product}/cohorts/{cohort}/config", operation_id = "putCohortConfig", tag = "configs", request_body = PutConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn put_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PutConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::put(
        &state.pool,
        caches,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// Sets and removes keys of the cohort's override by dotted path, as a new revision. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/cohorts/{cohort}/config", operation_id = "patchCohortConfig", tag = "configs", request_body = PatchConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn patch_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::patch(
        &state.pool,
        caches,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// The revisions of the cohort's override, newest first.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts/{cohort}/config/revisions", operation_id = "listCohortConfigRevisions", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"), ConfigRevisionQuery),
    responses((status = 200, body = ConfigRevisionPage)))]
pub async fn revisions_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ConfigRevisionQuery>,
) -> ApiResult<Json<ConfigRevisionPage>> {
    let page = configs::history(
        &state.pool,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        &query,
    )
    .await?;
    Ok(Json(page))
}

/// What changed in the cohort's override between two revisions.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts/{cohort}/config/diff", operation_id = "diffCohortConfig", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"), ConfigDiffQuery),
    responses((status = 200, body = ConfigDiff)))]
pub async fn diff_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ConfigDiffQuery>,
) -> ApiResult<Json<ConfigDiff>> {
    let diff = configs::diff(
        &state.pool,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        query.from,
        query.to,
    )
    .await?;
    Ok(Json(diff))
}

/// Makes an earlier revision's document the cohort's override again, as a new revision. Honours `If-Match`.
#[utoipa::path(post, path = "/v1/products/{product}/cohorts/{cohort}/config/rollback", operation_id = "rollbackCohortConfig", tag = "configs", request_body = RollbackConfig,
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn rollback_cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<RollbackConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::rollback(
        &state.pool,
        caches,
        &principal,
        Target::Cohort {
            product: &product,
            cohort: &cohort,
        },
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// Shows a device's configuration override; `effective=true` merges the levels above it in (product ← cohort ← device).
/// Secret values read `"***"`.
#[utoipa::path(get, path = "/v1/devices/{device}/config", operation_id = "getDeviceConfig", tag = "configs",
    params(("device" = String, Path, description = "Device identifier or ID"), ConfigQuery),
    responses((status = 200, body = Config)))]
pub async fn get_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Response> {
    let effective = query.effective.unwrap_or(false);
    let config = configs::show(&state.pool, &principal, Target::Device(&device), effective).await?;
    Ok(answer(config))
}

/// Replaces the device's override whole, as a new revision. Honours `If-Match`.
#[utoipa::path(put, path = "/v1/devices/{device}/config", operation_id = "putDeviceConfig", tag = "configs", request_body = PutConfig,
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn put_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PutConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::put(
        &state.pool,
        caches,
        &principal,
        Target::Device(&device),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// Sets and removes keys of the device's override by dotted path, as a new revision. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/devices/{device}/config", operation_id = "patchDeviceConfig", tag = "configs", request_body = PatchConfig,
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn patch_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::patch(
        &state.pool,
        caches,
        &principal,
        Target::Device(&device),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// The revisions of the device's override, newest first.
#[utoipa::path(get, path = "/v1/devices/{device}/config/revisions", operation_id = "listDeviceConfigRevisions", tag = "configs",
    params(("device" = String, Path, description = "Device identifier or ID"), ConfigRevisionQuery),
    responses((status = 200, body = ConfigRevisionPage)))]
pub async fn revisions_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigRevisionQuery>,
) -> ApiResult<Json<ConfigRevisionPage>> {
    let page = configs::history(&state.pool, &principal, Target::Device(&device), &query).await?;
    Ok(Json(page))
}

/// What changed in the device's override between two revisions.
#[utoipa::path(get, path = "/v1/devices/{device}/config/diff", operation_id = "diffDeviceConfig", tag = "configs",
    params(("device" = String, Path, description = "Device identifier or ID"), ConfigDiffQuery),
    responses((status = 200, body = ConfigDiff)))]
pub async fn diff_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConfigDiffQuery>,
) -> ApiResult<Json<ConfigDiff>> {
    let diff = configs::diff(
        &state.pool,
        &principal,
        Target::Device(&device),
        query.from,
        query.to,
    )
    .await?;
    Ok(Json(diff))
}

/// Makes an earlier revision's document the device's override again, as a new revision. Honours `If-Match`.
#[utoipa::path(post, path = "/v1/devices/{device}/config/rollback", operation_id = "rollbackDeviceConfig", tag = "configs", request_body = RollbackConfig,
    params(("device" = String, Path, description = "Device identifier or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = Config)))]
pub async fn rollback_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(device): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<RollbackConfig>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let config = write::rollback(
        &state.pool,
        caches,
        &principal,
        Target::Device(&device),
        if_match.0,
        body,
    )
    .await?;
    Ok(answer(config))
}

/// The product's configuration schema (`schema: null` when it has none).
#[utoipa::path(get, path = "/v1/products/{product}/config/schema", operation_id = "getConfigSchema", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = ConfigSchema)))]
pub async fn get_schema(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
) -> ApiResult<Response> {
    let schema = schemas::show(&state.pool, &principal, &product).await?;
    Ok(resource(StatusCode::OK, &schema, schema.revision, None))
}

/// Sets the product's configuration schema; refused (422, every failing path listed) when an
/// effective configuration of the product would not satisfy it. Honours `If-Match`.
#[utoipa::path(put, path = "/v1/products/{product}/config/schema", operation_id = "putConfigSchema", tag = "configs", request_body = PutConfigSchema,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = ConfigSchema)))]
pub async fn put_schema(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PutConfigSchema>,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let schema = schemas::replace(
        &state.pool,
        caches,
        &principal,
        &product,
        if_match.0,
        Some(body),
    )
    .await?;
    Ok(resource(StatusCode::OK, &schema, schema.revision, None))
}

/// Removes the product's configuration schema. Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/products/{product}/config/schema", operation_id = "deleteConfigSchema", tag = "configs",
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision of this level's document, e.g. \"3\" (\"0\" before the first)")),
    responses((status = 200, body = ConfigSchema)))]
pub async fn delete_schema(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let caches = &state.device_updates.configs;
    let schema =
        schemas::replace(&state.pool, caches, &principal, &product, if_match.0, None).await?;
    Ok(resource(StatusCode::OK, &schema, schema.revision, None))
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(get_product, Access::read()),
        route!(put_product, Access::write()),
        route!(patch_product, Access::write()),
        route!(revisions_product, Access::read()),
        route!(diff_product, Access::read()),
        route!(rollback_product, Access::write()),
        route!(get_cohort, Access::read()),
        route!(put_cohort, Access::write()),
        route!(patch_cohort, Access::write()),
        route!(revisions_cohort, Access::read()),
        route!(diff_cohort, Access::read()),
        route!(rollback_cohort, Access::write()),
        route!(get_device, Access::read()),
        route!(put_device, Access::write()),
        route!(patch_device, Access::write()),
        route!(revisions_device, Access::read()),
        route!(diff_device, Access::read()),
        route!(rollback_device, Access::write()),
        route!(get_schema, Access::read()),
        route!(put_schema, Access::write()),
        route!(delete_schema, Access::write()),
    ]
}
