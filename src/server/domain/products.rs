//! Products: names unique in the organization, archiving, and deletion only without devices.

use crate::api::{AuditAction, validate};
use crate::api::{CreateProduct, Page, Product, ProductId, ProductListQuery, UpdateProduct};
use crate::server::auth::Principal;
use crate::server::blobs::Blobs;
use crate::server::domain::firmware::lifecycle;
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Pool, products::Fields};

use super::lookup::product_or_404;
use super::{Validator, audit, check_revision, out_of_scope, unique_or};

fn duplicate(name: &str) -> ApiError {
    ApiError::conflict(format!("a product named `{name}` already exists"))
        .with_hint("choose another name, or use the existing product")
}

/// One page of the products the caller sees, in creation order.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    query: &ProductListQuery,
) -> ApiResult<Page<Product>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ProductId::parse)?;
    let mut v = Validator::default();
    v.check("tag", validate::tags(&query.tag));
    v.finish()?;
    let mut conn = pool.acquire().await?;
    let filter = store::products::ListFilter {
        state: query.state.unwrap_or_default(),
        tags: &query.tag,
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows =
        store::products::list_within(&mut conn, &principal.org_id, &filter, principal.scope())
            .await?;
    Ok(page.finish(rows, |p| p.id.as_str()))
}

/// Creates a product; its name must be unique in the organization.
pub async fn create(pool: &Pool, principal: &Principal, body: CreateProduct) -> ApiResult<Product> {
    let description = body.description.unwrap_or_default();
    let tags = validate::normalize_tags(body.tags);
    let mut v = Validator::default();
    v.check("name", validate::product_name(&body.name));
    v.check("description", validate::description(&description));
    v.check("tags", validate::tags(&tags));
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    if store::products::name_taken(&mut tx, org, &body.name).await? {
        return Err(duplicate(&body.name));
    }
    let id = ProductId::generate();
    let fields = Fields {
        name: &body.name,
        description: &description,
        tags: &tags,
        archived: false,
    };
    store::products::insert(&mut tx, org, &id, &fields, store::now())
        .await
        .map_err(|err| unique_or(err, || duplicate(&body.name)))?;
    let product = product_or_404(&mut tx, org, id.as_str()).await?;
    let details = serde_json::json!({ "name": product.name });
    let action = AuditAction::ProductCreated;
    audit::record(&mut tx, principal, action, id.as_str(), &id, details).await?;
    tx.commit().await?;
    Ok(product)
}

/// The product `reference` (name or ID).
pub async fn get(pool: &Pool, principal: &Principal, reference: &str) -> ApiResult<Product> {
    let mut conn = pool.acquire().await?;
    product_or_404(&mut conn, &principal.org_id, reference).await
}

/// Renames, describes, retags, archives or unarchives a product at revision `if_match` (when
/// given). A change to nothing writes nothing and records no event.
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    reference: &str,
    if_match: Option<i64>,
    body: UpdateProduct,
) -> ApiResult<Product> {
    let tags = body.tags.map(validate::normalize_tags);
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.check("name", validate::product_name(name));
    }
    if let Some(description) = &body.description {
        v.check("description", validate::description(description));
    }
    if let Some(tags) = &tags {
        v.check("tags", validate::tags(tags));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let current = product_or_404(&mut tx, org, reference).await?;
    check_revision(
        if_match,
        &format!("product `{}`", current.name),
        current.revision,
    )?;
    let name = body.name.unwrap_or_else(|| current.name.clone());
    let fields = Fields {
        name: &name,
        description: body.description.as_deref().unwrap_or(&current.description),
        tags: tags.as_deref().unwrap_or(&current.tags),
        archived: body.archived.unwrap_or(current.archived),
    };
    let unchanged = fields.name == current.name
        && fields.description == current.description
        && fields.tags == current.tags.as_slice()
        && fields.archived == current.archived;
    if unchanged {
        return Ok(current);
    }
    if name != current.name && store::products::name_taken(&mut tx, org, &name).await? {
        let holder = store::products::resolve(&mut tx, org, &name).await?;
        return Err(match holder {
            Some(other) if !principal.sees(&other.id) => out_of_scope::product_name(&name),
            _ => duplicate(&name),
        });
    }
    store::products::update(&mut tx, org, &current.id, &fields, store::now())
        .await
        .map_err(|err| {
            unique_or(err, || match principal.scope() {
                Some(_) => out_of_scope::product_name(&name),
                None => duplicate(&name),
            })
        })?;
    let product = product_or_404(&mut tx, org, current.id.as_str()).await?;
    let details = serde_json::json!({
        "name": product.name, "previous_name": current.name, "archived": product.archived,
    });
    // Archiving is what an auditor looks for; it gets its own action even when the same
    // request also renamed or re-described the product (the details say what else changed).
    let action = match (current.archived, product.archived) {
        (false, true) => AuditAction::ProductArchived,
        (true, false) => AuditAction::ProductUnarchived,
        _ => AuditAction::ProductUpdated,
    };
    let id = &product.id;
    audit::record(&mut tx, principal, action, id.as_str(), id, details).await?;
    tx.commit().await?;
    Ok(product)
}

/// Deletes a product at revision `if_match` (when given) with its cohorts and firmware;
/// refused (409) while it has devices. Its binaries' blobs are deleted once that committed.
pub async fn delete(
    pool: &Pool,
    blobs: &Blobs,
    principal: &Principal,
    reference: &str,
    if_match: Option<i64>,
) -> ApiResult<()> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, reference).await?;
    check_revision(
        if_match,
        &format!("product `{}`", product.name),
        product.revision,
    )?;
    let devices = store::devices::count_in_product(&mut tx, &product.id).await?;
    if devices > 0 {
        let noun = if devices == 1 { "device" } else { "devices" };
        return Err(ApiError::conflict(format!(
            "product `{}` still has {devices} {noun}; only a product without devices can be deleted",
            product.name
        ))
        .with_hint(format!(
            "move the devices to another product or delete them first (`fleet device list --product {}`), or archive the product instead",
            product.name
        )));
    }
    let blob_prefixes =
        store::firmware::binaries::prefixes_of_product(&mut tx, &product.id).await?;
    store::products::delete(&mut tx, org, &product.id).await?;
    let details = serde_json::json!({ "name": product.name });
    let (id, action) = (&product.id, AuditAction::ProductDeleted);
    audit::record(&mut tx, principal, action, id.as_str(), id, details).await?;
    tx.commit().await?;
    lifecycle::free_prefixes(blobs, &blob_prefixes).await;
    Ok(())
}
