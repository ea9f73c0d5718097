//! `/v1/products`: create, list, show, update (rename, archive), delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Validator, audit, product_or_404, resource, unique_or};
use crate::api::{
    CreateProduct, Page, Product, ProductId, ProductListQuery, UpdateProduct, validate,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::server::pagination::PageRequest;
use crate::server::state::AppState;
use crate::server::store::{self, products::Fields};

fn duplicate(name: &str) -> ApiError {
    ApiError::conflict(format!("a product named `{name}` already exists"))
        .with_hint("choose another name, or use the existing product")
}

fn location(id: &ProductId) -> Option<String> {
    Some(format!("/v1/products/{id}"))
}

/// List products in creation order.
#[utoipa::path(get, path = "/v1/products", operation_id = "listProducts", tag = "products", params(ProductListQuery),
    responses((status = 200, body = Page<Product>)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ProductListQuery>,
) -> ApiResult<Json<Page<Product>>> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), ProductId::parse)?;
    let mut v = Validator::default();
    v.check("tag", validate::tags(&query.tag));
    v.finish()?;
    let mut conn = state.pool.acquire().await?;
    let filter = store::products::ListFilter {
        state: query.state.unwrap_or_default(),
        tags: &query.tag,
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows =
        store::products::list_within(&mut conn, &principal.org_id, &filter, principal.scope())
            .await?;
    Ok(Json(page.finish(rows, |p| p.id.as_str())))
}

/// Create a product; its name must be unique in the organization.
#[utoipa::path(post, path = "/v1/products", operation_id = "createProduct", tag = "products", request_body = CreateProduct,
    responses((status = 201, body = Product)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateProduct>,
) -> ApiResult<Response> {
    let description = body.description.unwrap_or_default();
    let tags = validate::normalize_tags(body.tags);
    let mut v = Validator::default();
    v.check("name", validate::product_name(&body.name));
    v.check("description", validate::description(&description));
    v.check("tags", validate::tags(&tags));
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
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
    audit(
        &mut tx,
        &principal,
        "product.created",
        id.as_str(),
        id.as_str(),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(resource(
        StatusCode::CREATED,
        &product,
        product.revision,
        location(&id),
    ))
}

/// Show a product by name or ID.
#[utoipa::path(get, path = "/v1/products/{product}", operation_id = "getProduct", tag = "products",
    params(("product" = String, Path, description = "Product name or ID")),
    responses((status = 200, body = Product)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, &reference).await?;
    Ok(resource(StatusCode::OK, &product, product.revision, None))
}

/// Update a product: rename, describe, retag, archive or unarchive. Honours `If-Match`.
#[utoipa::path(patch, path = "/v1/products/{product}", operation_id = "updateProduct", tag = "products", request_body = UpdateProduct,
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 200, body = Product)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<UpdateProduct>,
) -> ApiResult<Response> {
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
    let mut tx = store::begin_write(&state.pool).await?;
    let current = product_or_404(&mut tx, org, &reference).await?;
    if_match.check(&format!("product `{}`", current.name), current.revision)?;
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
        return Ok(resource(StatusCode::OK, &current, current.revision, None));
    }
    if name != current.name && store::products::name_taken(&mut tx, org, &name).await? {
        return Err(duplicate(&name));
    }
    store::products::update(&mut tx, org, &current.id, &fields, store::now())
        .await
        .map_err(|err| unique_or(err, || duplicate(&name)))?;
    let product = product_or_404(&mut tx, org, current.id.as_str()).await?;
    let id = product.id.as_str();
    let details = serde_json::json!({
        "name": product.name, "previous_name": current.name, "archived": product.archived,
    });
    audit(&mut tx, &principal, "product.updated", id, id, details).await?;
    tx.commit().await?;
    Ok(resource(StatusCode::OK, &product, product.revision, None))
}

/// Delete a product and its cohorts; refused (409) while it has devices. Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/products/{product}", operation_id = "deleteProduct", tag = "products",
    params(("product" = String, Path, description = "Product name or ID"),
        ("If-Match" = Option<String>, Header, description = "Quoted revision, e.g. \"3\"")),
    responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(reference): ApiPath<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(&state.pool).await?;
    let product = product_or_404(&mut tx, org, &reference).await?;
    if_match.check(&format!("product `{}`", product.name), product.revision)?;
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
    store::products::delete(&mut tx, org, &product.id).await?;
    let (id, details) = (
        product.id.as_str(),
        serde_json::json!({ "name": product.name }),
    );
    audit(&mut tx, &principal, "product.deleted", id, id, details).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's routes: handler and access rule, declared once.
pub fn routes() -> Vec<crate::server::routes::Route> {
    use crate::server::routes::{Access, route};
    vec![
        route!(list, Access::read()),
        route!(create, Access::write().org_wide()),
        route!(get, Access::read()),
        route!(update, Access::write()),
        route!(delete, Access::write().org_wide()),
    ]
}
