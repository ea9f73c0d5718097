//! `/v1/products/{product}/releases`: a cohort pointed at a bundle of the cohort's own product
//! (the seed's guard against incompatible firmware), with rollout percentage and `required`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::bundles::bundle_or_404;
use super::check_active;
use crate::api::{
    AuditAction, BundleId, CohortId, CreateRelease, Page, Product, Release, ReleaseId,
    ReleaseListQuery, UpdateRelease,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::handlers::{audit, find_cohort, product_or_404, resource};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn};

fn check_percent(value: Option<u8>) -> ApiResult<()> {
    match value {
        Some(p) if p > 100 => Err(ApiError::invalid_field(
            "rollout_percent",
            format!("rollout_percent must be 0–100, got {p}"),
        )),
        _ => Ok(()),
    }
}

async fn cohort_id(
    conn: &mut Conn,
    principal: &Principal,
    product: &Product,
    reference: &str,
) -> ApiResult<CohortId> {
    find_cohort(conn, &principal.org_id, product, reference)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no cohort `{reference}`",
                product.name
            ))
        })
}

async fn release_or_404(conn: &mut Conn, product: &Product, reference: &str) -> ApiResult<Release> {
    let missing = || {
        ApiError::not_found(format!(
            "product `{}` has no release `{reference}`",
            product.name
        ))
    };
    if ReleaseId::parse(reference).is_none() {
        return Err(missing());
    }
    fw::releases::get(conn, &product.id, reference)
        .await?
        .ok_or_else(missing)
}

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
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ReleaseId::parse)?;
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let cohort = match &query.cohort {
        Some(reference) => Some(cohort_id(&mut conn, &principal, &product, reference).await?),
        None => None,
    };
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::releases::list(&mut conn, &product.id, cohort.as_ref(), &bounds).await?;
    Ok(Json(page.finish(rows, |r| r.id.as_str())))
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
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let release = release_or_404(&mut conn, &product, &release).await?;
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
    check_percent(body.rollout_percent)?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
    check_active(&product)?;
    let cohort = cohort_id(&mut tx, &principal, &product, &body.cohort).await?;
    if let Some(id) = BundleId::parse(&body.bundle) {
        let other = fw::bundles::product_of(&mut tx, org, &id).await?;
        if let Some((other_id, other_name)) = other.filter(|(p, _)| *p != product.id) {
            if principal.sees(&other_id) {
                return Err(ApiError::conflict(format!(
                    "bundle {id} is firmware of product `{other_name}`, not `{}`: a release may \
                     only use firmware of the cohort's own product",
                    product.name
                ))
                .with_hint(format!(
                    "create a bundle of `{}`'s binaries with `fleet bundle create`",
                    product.name
                )));
            }
        }
    }
    let bundle = bundle_or_404(&mut tx, &product, &body.bundle).await?;
    if fw::requires_signed(&mut tx, &product.id).await? {
        let unsigned: Vec<String> = bundle
            .binaries
            .iter()
            .filter(|b| b.signatures == 0)
            .map(|b| {
                format!(
                    "{} {} {} ({})",
                    b.artifact, b.version, b.target, b.binary_id
                )
            })
            .collect();
        if !unsigned.is_empty() {
            return Err(ApiError::conflict(format!(
                "product `{}` requires signed firmware, and bundle `{}` has unsigned binaries: {}",
                product.name,
                bundle.name,
                unsigned.join(", ")
            ))
            .with_hint("sign them with `fleet firmware push … --sign-key KEYFILE`"));
        }
    }
    let id = ReleaseId::generate();
    let previous = fw::releases::latest(&mut tx, &cohort).await?;
    let new = fw::releases::NewRelease {
        id: &id,
        product_id: &product.id,
        cohort_id: &cohort,
        bundle_id: &bundle.id,
        rollout_percent: body.rollout_percent.unwrap_or(100),
        required: body.required.unwrap_or(false),
        previous: previous.as_ref(),
    };
    fw::releases::insert(&mut tx, org, &new, store::now()).await?;
    let release = release_or_404(&mut tx, &product, id.as_str()).await?;
    let details = serde_json::json!({
        "cohort": release.cohort, "bundle": release.bundle,
        "rollout_percent": release.rollout_percent, "required": release.required,
    });
    audit(
        &mut tx,
        &principal,
        AuditAction::ReleaseCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    let location = format!("/v1/products/{}/releases/{id}", product.id);
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
    check_percent(body.rollout_percent)?;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, &product).await?;
    let current = release_or_404(&mut tx, &product, &release).await?;
    if_match.check(&format!("release {}", current.id), current.revision)?;
    let percent = body.rollout_percent.unwrap_or(current.rollout_percent);
    let required = body.required.unwrap_or(current.required);
    if percent == current.rollout_percent && required == current.required {
        return Ok(resource(StatusCode::OK, &current, current.revision, None));
    }
    fw::releases::update(&mut tx, &current.id, percent, required, store::now()).await?;
    let release = release_or_404(&mut tx, &product, current.id.as_str()).await?;
    let details = serde_json::json!({
        "rollout_percent": percent, "previous_rollout_percent": current.rollout_percent,
        "required": required,
    });
    let (rid, pid) = (release.id.as_str(), &product.id);
    audit(
        &mut tx,
        &principal,
        AuditAction::ReleaseUpdated,
        rid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(resource(StatusCode::OK, &release, release.revision, None))
}
