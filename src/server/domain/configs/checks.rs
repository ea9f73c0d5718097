//! What a change must keep true: every effective configuration it touches still satisfies the
//! product's schema. The effective configurations are not read per device: devices without an
//! override share their cohort's (or the product's), and devices with one are read as the
//! distinct (cohort, override) pairs, so a product of 100,000 devices costs a few documents.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::ConfigCaches;
use super::document::effective;
use super::schema::failures;
use crate::api::{CohortId, FieldError, Product};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::Conn;
use crate::server::store::configs::{self, DeviceOverrides, OverrideSet, Settings};

/// Most failures one refusal lists.
const MAX_FAILURES: usize = 100;

/// The document a change writes, and at which level.
pub enum Change<'a> {
    /// The product's new document.
    Product(&'a Map<String, Value>),
    /// A cohort's new override.
    Cohort {
        id: &'a CohortId,
        name: &'a str,
        document: &'a Map<String, Value>,
    },
    /// A device's new override; `cohort` is the device's cohort.
    Device {
        cohort: Option<(&'a CohortId, &'a str)>,
        document: &'a Map<String, Value>,
    },
    /// Only the schema (in `settings`) changes.
    Schema,
}

/// 422 listing every failing path of every effective configuration `change` would make that
/// does not satisfy `settings.schema`; `Ok` without a schema.
pub async fn check(
    conn: &mut Conn,
    caches: &ConfigCaches,
    product: &Product,
    settings: &Settings,
    change: Change<'_>,
) -> ApiResult<()> {
    let Some(schema) = &settings.schema else {
        return Ok(());
    };
    let validator = caches.schemas.get(schema).map_err(|message| {
        ApiError::invalid_field("schema", format!("the stored schema {message}"))
    })?;
    // Only configurations that exist are checked: a product with no document yet delivers
    // nothing, so a schema may come before the first document.
    let stored_product = match change {
        Change::Product(_) => None,
        _ => configs::current(conn, product.id.as_str()).await?,
    };
    let product_exists = matches!(change, Change::Product(_)) || stored_product.is_some();
    let product_doc = match change {
        Change::Product(document) => document.clone(),
        _ => stored_product.map(|d| d.document).unwrap_or_default(),
    };
    let mut candidates: Vec<(String, Map<String, Value>)> = Vec::new();
    match change {
        Change::Product(_) | Change::Schema => {
            if product_exists {
                candidates.push((
                    "the product's configuration".into(),
                    effective([&product_doc]),
                ));
            }
            let cohorts = configs::cohort_overrides(conn, &product.id).await?;
            for cohort in &cohorts {
                candidates.push((
                    cohort_context(cohort.cohort.as_deref()),
                    effective([&product_doc, &cohort.document]),
                ));
            }
            let by_id: HashMap<&CohortId, &Map<String, Value>> = cohorts
                .iter()
                .filter_map(|c| c.cohort_id.as_ref().map(|id| (id, &c.document)))
                .collect();
            let sets =
                configs::device_override_sets(conn, &product.id, DeviceOverrides::All).await?;
            for set in &sets {
                let empty = Map::new();
                let cohort_doc = set
                    .cohort_id
                    .as_ref()
                    .and_then(|id| by_id.get(id).copied())
                    .unwrap_or(&empty);
                candidates.push((
                    device_context(set),
                    effective([&product_doc, cohort_doc, &set.document]),
                ));
            }
        }
        Change::Cohort { id, name, document } => {
            candidates.push((
                cohort_context(Some(name)),
                effective([&product_doc, document]),
            ));
            let which = DeviceOverrides::InCohort(Some(id));
            for set in configs::device_override_sets(conn, &product.id, which).await? {
                candidates.push((
                    device_context(&set),
                    effective([&product_doc, document, &set.document]),
                ));
            }
        }
        Change::Device { cohort, document } => {
            let cohort_doc = match cohort {
                Some((id, _)) => configs::current(conn, id.as_str())
                    .await?
                    .map(|d| d.document)
                    .unwrap_or_default(),
                None => Map::new(),
            };
            candidates.push((
                "the device's effective configuration".into(),
                effective([&product_doc, &cohort_doc, document]),
            ));
        }
    }
    let mut found: Vec<FieldError> = Vec::new();
    for (context, document) in &candidates {
        for failure in failures(&validator, document, &settings.secrets, context) {
            if found.len() >= MAX_FAILURES {
                break;
            }
            if !found.contains(&failure) {
                found.push(failure);
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(found).with_hint(
            "change the document (or the schema) so that every effective configuration satisfies \
             the schema; `fleet config schema show` prints it",
        ))
    }
}

fn cohort_context(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("the effective configuration of cohort `{name}`"),
        None => "the effective configuration of a cohort".into(),
    }
}

fn device_context(set: &OverrideSet) -> String {
    match &set.cohort {
        Some(name) => format!(
            "a device's effective configuration (a device of cohort `{name}` with its own override)"
        ),
        None => "a device's effective configuration (a device in no cohort, with its own override)"
            .into(),
    }
}
