//! A product's configuration schema: shown, set (refused when any effective configuration of
//! the product would not satisfy it) and removed, each change audited.

use serde_json::{Value, json};

use super::checks::{self, Change};
use super::schema::compile;
use super::{ConfigCaches, Level, Target, find};
use crate::api::config::{ConfigSchema, MAX_DOCUMENT_BYTES, PutConfigSchema};
use crate::api::{AuditAction, Product};
use crate::server::auth::Principal;
use crate::server::domain::{audit, check_revision};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::configs::Settings;
use crate::server::store::{self, Pool};

fn to_api(product: &Product, settings: &Settings) -> ConfigSchema {
    ConfigSchema {
        product_id: product.id.clone(),
        product: product.name.clone(),
        revision: settings.schema_revision,
        schema: settings.schema.clone(),
        updated_at: settings.schema_updated_at,
    }
}

/// The product's schema (`schema: null` when it has none).
pub async fn show(pool: &Pool, principal: &Principal, product: &str) -> ApiResult<ConfigSchema> {
    let mut conn = pool.acquire().await?;
    let level = find(&mut conn, principal, Target::Product(product)).await?;
    let settings = store::configs::settings(&mut conn, &level.product.id).await?;
    Ok(to_api(&level.product, &settings))
}

/// Sets the schema (`Some`) or removes it (`None`) at revision `if_match` (when given).
pub async fn replace(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    product: &str,
    if_match: Option<i64>,
    body: Option<PutConfigSchema>,
) -> ApiResult<ConfigSchema> {
    let schema = body.map(|b| Value::Object(b.schema));
    if let Some(schema) = &schema {
        let size = schema.to_string().len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(ApiError::invalid_field(
                "schema",
                format!("is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}"),
            ));
        }
        compile(schema).map_err(|message| ApiError::invalid_field("schema", message))?;
    }
    let mut tx = store::begin_write(pool).await?;
    let level: Level = find(&mut tx, principal, Target::Product(product)).await?;
    if level.product.archived {
        return Err(super::write::archived(&level.product));
    }
    let mut settings = store::configs::settings(&mut tx, &level.product.id).await?;
    let what = format!(
        "the configuration schema of product `{}`",
        level.product.name
    );
    check_revision(if_match, &what, settings.schema_revision)?;
    settings.schema_revision += 1;
    settings.schema = schema;
    settings.schema_updated_at = Some(store::now());
    checks::check(&mut tx, caches, &level.product, &settings, Change::Schema).await?;
    store::configs::write_settings(&mut tx, &level.product.id, &settings).await?;
    let action = if settings.schema.is_some() {
        AuditAction::ConfigSchemaUpdated
    } else {
        AuditAction::ConfigSchemaDeleted
    };
    let details = json!({ "revision": settings.schema_revision });
    let pid = &level.product.id;
    audit::record(&mut tx, principal, action, pid.as_str(), pid, details).await?;
    tx.commit().await?;
    Ok(to_api(&level.product, &settings))
}
