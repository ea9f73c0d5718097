//! Releases: a cohort pointed at a bundle of the cohort's own product (the seed's guard
//! against incompatible firmware), with rollout percentage and `required`.

use super::bundles::bundle_or_404;
use super::check_active;
use crate::api::{
    AuditAction, BundleId, CohortId, CreateRelease, Page, Product, Release, ReleaseId,
    UpdateRelease,
};
use crate::server::auth::Principal;
use crate::server::domain::lookup::{find_cohort, product_or_404};
use crate::server::domain::{audit, check_revision};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn, Pool};

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

pub(crate) async fn release_or_404(
    conn: &mut Conn,
    product: &Product,
    reference: &str,
) -> ApiResult<Release> {
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

/// One page of a product's releases (of one cohort, name or ID, when given), oldest first.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    cohort: Option<&str>,
    (limit, cursor): (Option<u32>, Option<&str>),
) -> ApiResult<Page<Release>> {
    let page = PageRequest::new(limit, cursor, ReleaseId::parse)?;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let cohort = match cohort {
        Some(reference) => Some(cohort_id(&mut conn, principal, &product, reference).await?),
        None => None,
    };
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::releases::list(&mut conn, &product.id, cohort.as_ref(), &bounds).await?;
    Ok(page.finish(rows, |r| r.id.as_str()))
}

/// The release `release` (an ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    release: &str,
) -> ApiResult<Release> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    release_or_404(&mut conn, &product, release).await
}

/// Releases a bundle to a cohort of `product` (not archived). The bundle must be of the
/// cohort's product (409 otherwise); with the product's `require_signed_firmware`, every
/// binary in it must be signed (409).
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateRelease,
) -> ApiResult<Release> {
    check_percent(body.rollout_percent)?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    let cohort = cohort_id(&mut tx, principal, &product, &body.cohort).await?;
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
    audit::record(
        &mut tx,
        principal,
        AuditAction::ReleaseCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(release)
}

/// Changes a release's rollout percentage or `required` at revision `if_match` (when given).
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    (product, release): (&str, &str),
    if_match: Option<i64>,
    body: UpdateRelease,
) -> ApiResult<Release> {
    check_percent(body.rollout_percent)?;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, &principal.org_id, product).await?;
    let current = release_or_404(&mut tx, &product, release).await?;
    check_revision(
        if_match,
        &format!("release {}", current.id),
        current.revision,
    )?;
    let percent = body.rollout_percent.unwrap_or(current.rollout_percent);
    let required = body.required.unwrap_or(current.required);
    if percent == current.rollout_percent && required == current.required {
        return Ok(current);
    }
    fw::releases::update(&mut tx, &current.id, percent, required, store::now()).await?;
    let release = release_or_404(&mut tx, &product, current.id.as_str()).await?;
    let details = serde_json::json!({
        "rollout_percent": percent, "previous_rollout_percent": current.rollout_percent,
        "required": required,
    });
    let (rid, pid) = (release.id.as_str(), &product.id);
    audit::record(
        &mut tx,
        principal,
        AuditAction::ReleaseUpdated,
        rid,
        pid,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(release)
}
