//! Bundles: immutable ordered sets of one product's ready binaries.

use super::check_active;
use crate::api::{
    AuditAction, BinaryId, BinaryState, Bundle, BundleId, CreateBundle, Page, Product, validate,
};
use crate::server::auth::Principal;
use crate::server::domain::lookup::product_or_404;
use crate::server::domain::{Validator, audit, unique_or};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn, Pool};

use crate::api::firmware::BUNDLE_BINARIES_MAX as MAX_BINARIES;

pub(super) async fn bundle_or_404(
    conn: &mut Conn,
    product: &Product,
    reference: &str,
) -> ApiResult<Bundle> {
    fw::bundles::get(conn, &product.id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no bundle `{reference}`",
                product.name
            ))
            .with_hint(format!(
                "list its bundles with `fleet bundle list --product {}`",
                product.name
            ))
        })
}

/// One page of a product's bundles.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<Bundle>> {
    let page = PageRequest::new(limit, cursor, BundleId::parse)?;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::bundles::list(&mut conn, &product.id, &bounds).await?;
    Ok(page.finish(rows, |b| b.id.as_str()))
}

/// The bundle `bundle` (name or ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    bundle: &str,
) -> ApiResult<Bundle> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    bundle_or_404(&mut conn, &product, bundle).await
}

/// Creates a bundle of `product` (not archived) from ready binaries of that product, in order.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateBundle,
) -> ApiResult<Bundle> {
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check(
        "name",
        validate::name("bundle", BundleId::PREFIX, &body.name),
    );
    v.check("description", validate::description(&description));
    if body.binaries.is_empty() || body.binaries.len() > MAX_BINARIES {
        v.check(
            "binaries",
            Err(format!("a bundle holds 1 to {MAX_BINARIES} binaries")),
        );
    }
    let mut ids: Vec<BinaryId> = Vec::with_capacity(body.binaries.len());
    for (i, reference) in body.binaries.iter().enumerate() {
        match BinaryId::parse(reference) {
            Some(id) if ids.contains(&id) => {
                v.check(
                    &format!("binaries[{i}]"),
                    Err(format!("`{reference}` is listed twice")),
                );
            }
            Some(id) => ids.push(id),
            None => v.check(
                &format!("binaries[{i}]"),
                Err(format!("`{reference}` is not a binary ID")),
            ),
        }
    }
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    for id in &ids {
        let found = fw::binaries::get(&mut tx, org, id)
            .await?
            .filter(|s| principal.sees(&s.binary.product_id));
        let Some(stored) = found else {
            return Err(ApiError::not_found(format!("no binary `{id}`")));
        };
        if stored.binary.product_id != product.id {
            return Err(ApiError::conflict(format!(
                "binary {id} belongs to product `{}`, not `{}`: a bundle holds firmware of one product",
                stored.binary.product, product.name
            )));
        }
        if stored.binary.state != BinaryState::Ready {
            return Err(ApiError::conflict(format!(
                "binary {id} is still uploading; only ready binaries can be bundled"
            )));
        }
    }
    let duplicate = || {
        ApiError::conflict(format!(
            "product `{}` already has a bundle named `{}`",
            product.name, body.name
        ))
    };
    if fw::bundles::get(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let id = BundleId::generate();
    let now = store::now();
    let new = fw::bundles::NewBundle {
        id: &id,
        product_id: &product.id,
        name: &body.name,
        description: &description,
        binaries: &ids,
    };
    fw::bundles::insert(&mut tx, org, &new, now)
        .await
        .map_err(|err| unique_or(err, duplicate))?;
    let bundle = bundle_or_404(&mut tx, &product, id.as_str()).await?;
    let details = serde_json::json!({ "name": bundle.name, "binaries": ids });
    audit::record(
        &mut tx,
        principal,
        AuditAction::BundleCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(bundle)
}
