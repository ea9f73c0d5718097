//! `GET …/stats` of a product, a cohort and a release: adapters over `domain::stats`. Each
//! answer is relative to the moment the request is handled.

use axum::Json;
use axum::extract::State;

use crate::api::Stats;
use crate::server::auth::Principal;
use crate::server::domain::stats::{self, Target};
use crate::server::error::ApiResult;
use crate::server::extract::ApiPath;
use crate::server::state::AppState;

async fn answer(
    state: &AppState,
    principal: &Principal,
    target: Target<'_>,
) -> ApiResult<Json<Stats>> {
    let online_within = state.device_updates.online_within();
    let stats = stats::stats(&state.pool, principal, target, online_within).await?;
    Ok(Json(stats))
}

/// A product's statistics: devices, connection, firmware versions, and the progress of each
/// cohort's current release.
#[utoipa::path(get, path = "/v1/products/{product}/stats", operation_id = "getProductStats", tag = "stats",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = Stats)))]
pub async fn product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
) -> ApiResult<Json<Stats>> {
    answer(&state, &principal, Target::Product(&product)).await
}

/// A cohort's statistics: its devices, their connection and firmware, and the progress of its
/// current release.
#[utoipa::path(get, path = "/v1/products/{product}/cohorts/{cohort}/stats", operation_id = "getCohortStats", tag = "stats",
    params(("product" = String, Path, description = "Product name or ID"),
        ("cohort" = String, Path, description = "Cohort name or ID")),
    responses((status = 200, body = Stats)))]
pub async fn cohort(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, cohort)): ApiPath<(String, String)>,
) -> ApiResult<Json<Stats>> {
    answer(&state, &principal, Target::Cohort(&product, &cohort)).await
}

/// A release's statistics: its progress (offered, each state, success rate, failure reasons,
/// time to success), and the devices of its cohort.
#[utoipa::path(get, path = "/v1/products/{product}/releases/{release}/stats", operation_id = "getReleaseStats", tag = "stats",
    params(("product" = String, Path, description = "Product name or ID"),
        ("release" = String, Path, description = "Release ID")),
    responses((status = 200, body = Stats)))]
pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, release)): ApiPath<(String, String)>,
) -> ApiResult<Json<Stats>> {
    answer(&state, &principal, Target::Release(&product, &release)).await
}

pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(product, Access::read()),
        route!(cohort, Access::read()),
        route!(release, Access::read()),
    ]
}
