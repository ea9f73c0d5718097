//! `/v1/products/{product}/releases`, adapters over `domain::firmware::releases` and, for
//! halt, resume and promote, `domain::firmware::rollout`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{CreateRelease, Page, PromoteRelease, Release, ReleaseListQuery, UpdateRelease};
use crate::server::auth::Principal;
use crate::server::domain::firmware::{releases, rollout};
use crate::server::error::ApiResult;
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::handlers::resource;
use crate::server::state::AppState;

/// List a product's releases (of one cohort with `cohort=`), oldest first.
#[utoipa::path(get, path = "/v1/products/{product}/releases", operation_id = "listReleases", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"), ReleaseListQuery),
    responses((status = 200, body = Page<Release>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReleaseListQuery>,
) -> ApiResult<Json<Page<Release>>> {
    let cohort = query.cohort.as_deref();
    let bounds = (query.limit, query.cursor.as_deref());
    let page = releases::list(&state.pool, &principal, &product, cohort, bounds).await?;
    Ok(Json(page))
}

/// Show a release.
#[utoipa::path(get, path = "/v1/products/{product}/releases/{release}", operation_id = "getRelease", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Release)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let release = releases::get(&state.pool, &principal, &product, &release).await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}

/// Release a bundle to a cohort. The bundle must be of the cohort's product (409 otherwise);
/// with the product's `require_signed_firmware`, every binary in it must be signed (409).
#[utoipa::path(post, path = "/v1/products/{product}/releases", operation_id = "createRelease", tag = "firmware",
    request_body = CreateRelease,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 201, body = Release)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRelease>,
) -> ApiResult<Response> {
    let release =
        releases::create(&state.pool, &principal, &product, body, state.clock.now()).await?;
    let location = format!(
        "/v1/products/{}/releases/{}",
        release.product_id, release.id
    );
    Ok(resource(
        StatusCode::CREATED,
        &release,
        release.revision,
        Some(location),
    ))
}

/// Change a release's rollout percentage or `required`. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}/releases/{release}", operation_id = "updateRelease", tag = "firmware",
    request_body = UpdateRelease,
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Release)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateRelease>,
) -> ApiResult<Response> {
    let names = (product.as_str(), release.as_str());
    let now = state.clock.now();
    let release = releases::update(&state.pool, &principal, names, if_match.0, body, now).await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}

async fn command(
    state: &AppState,
    principal: &Principal,
    (product, release): (&str, &str),
    command: rollout::Command,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let release =
        rollout::command(&state.pool, principal, (product, release), command, now).await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}

/// Halt a release: no device that has not started it is offered it (devices mid-update may
/// finish), and its schedule stops, until it is resumed. Halting a halted release changes
/// nothing and answers the same.
#[utoipa::path(post, path = "/v1/products/{product}/releases/{release}/halt", operation_id = "haltRelease", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Release)))]
pub async fn halt(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let names = (product.as_str(), release.as_str());
    command(&state, &principal, names, rollout::Command::Halt).await
}

/// Resume a halted release: offered again at its rollout percentage; its guard counts afresh
/// and the next step's wait starts over. Resuming a release that is not halted changes nothing.
#[utoipa::path(post, path = "/v1/products/{product}/releases/{release}/resume", operation_id = "resumeRelease", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Release)))]
pub async fn resume(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let names = (product.as_str(), release.as_str());
    command(&state, &principal, names, rollout::Command::Resume).await
}

/// Promote a release now: its schedule's next step, or `to_percent` (above the current
/// percentage; the schedule continues from the first step above it). 409 when halted or at the
/// last step.
#[utoipa::path(post, path = "/v1/products/{product}/releases/{release}/promote", operation_id = "promoteRelease", tag = "firmware",
    request_body = PromoteRelease,
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Release)))]
pub async fn promote(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PromoteRelease>,
) -> ApiResult<Response> {
    let names = (product.as_str(), release.as_str());
    let promote = rollout::Command::Promote(body.to_percent);
    command(&state, &principal, names, promote).await
}
