//! `/v1/products/{product}/bundles`: immutable ordered sets of one product's ready binaries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::check_active;
use crate::api::firmware::BUNDLE_BINARIES_MAX as MAX_BINARIES;
use crate::api::{
    AuditAction, BinaryId, BinaryState, Bundle, BundleId, CreateBundle, Page, PageQuery, Product,
    validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::handlers::{Validator, audit, product_or_404, resource, unique_or};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn};

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

/// List a product's bundles.
#[utoipa::path(get, path = "/v1/products/{product}/bundles", operation_id = "listBundles", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"), PageQuery),
    responses((status = 200, body = Page<Bundle>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Bundle>>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), BundleId::parse)?;
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::bundles::list(&mut conn, &product.id, &bounds).await?;
    Ok(Json(page.finish(rows, |b| b.id.as_str())))
}

/// Show a bundle by name or ID.
#[utoipa::path(get, path = "/v1/products/{product}/bundles/{bundle}", operation_id = "getBundle", tag = "firmware",
    params(("product" = String, Path, description = "Product name or ID"),
        ("bundle" = String, Path, description = "Bundle name or ID")),
    responses((status = 200, body = Bundle)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((product, bundle)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &product).await?;
    let bundle = bundle_or_404(&mut conn, &product, &bundle).await?;
    Ok(resource(StatusCode::OK, &bundle, 1, None))
}

/// Create a bundle from ready binaries of this product, in order.
#[utoipa::path(post, path = "/v1/products/{product}/bundles", operation_id = "createBundle", tag = "firmware",
    request_body = CreateBundle,
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 201, body = Bundle)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(product): ApiPath<String>,
    ApiJson(body): ApiJson<CreateBundle>,
) -> ApiResult<Response> {
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
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &product).await?;
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
    audit(
        &mut tx,
        &principal,
        AuditAction::BundleCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    let location = format!("/v1/products/{}/bundles/{id}", product.id);
    Ok(resource(StatusCode::CREATED, &bundle, 1, Some(location)))
}
