//! Device-level configuration overrides for a selection: the same keys set (or removed) in the
//! override of every selected device, each device's override a new revision, all or none.
//! The new documents are worked out once per distinct current override, and every effective
//! configuration they make is checked against the product's schema before anything is
//! written, so 100,000 devices sharing a few overrides cost a few documents.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::{
    apply_and_commit, begin, cap, check_selection, missing_error, missing_refusals, outside_error,
    outside_refusals, plan, select,
};
use crate::api::bulk::SAMPLE_MAX;
use crate::api::config::{MAX_DOCUMENT_BYTES, SECRET_MASK, split_path};
use crate::api::{
    BulkResult, Cohort, CohortId, ConfigureDevices, FieldError, OrgId, Product, ProductId,
};
use crate::server::auth::Principal;
use crate::server::domain::Validator;
use crate::server::domain::configs::ConfigCaches;
use crate::server::domain::configs::checks::{self, Change as Checked};
use crate::server::domain::configs::document::{self, mask, set_path};
use crate::server::domain::configs::write::{
    archived, check_paths, message_problem, patch_document,
};
use crate::server::domain::lookup::{product_or_404, writable_product};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::bulk::{self as sql, Change, FailAfterRows};
use crate::server::store::configs::{self as stored, Settings};
use crate::server::store::configs_bulk::{self, NO_DOCUMENT};
use crate::server::store::{Conn, Pool};

/// Sets and removes keys in the override of every selected device (or plans it, for a dry
/// run). Every selected device must be in `body.product`; a filter selection without a product
/// is limited to it.
pub async fn configure(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    body: &ConfigureDevices,
    fail_after_rows: FailAfterRows,
) -> ApiResult<BulkResult> {
    let mut v = Validator::default();
    check_selection(&mut v, &body.selection, true);
    for path in body.set.keys() {
        v.check(&format!("set.{path}"), split_path(path).map(|_| ()));
    }
    check_paths(&mut v, "unset", &body.unset);
    v.check("message", message_problem(&body.message));
    v.finish()?;

    let mut tx = begin(pool, body.dry_run).await?;
    let product = writable_product(&mut tx, principal, &body.product).await?;
    if product.archived {
        return Err(archived(&product));
    }
    let missing = select(&mut tx, principal, &body.selection, Some(&product)).await?;
    let listed = if body.dry_run {
        cap(body.list)
    } else {
        Some(SAMPLE_MAX)
    };
    let (outside, examples) = sql::outside_product(&mut tx, &product.id, listed).await?;
    if !body.dry_run {
        if !missing.is_empty() {
            return Err(missing_error(&missing, "configured"));
        }
        if outside > 0 {
            let rule = "a device's configuration override belongs to its product";
            return Err(outside_error(
                outside,
                examples,
                &product,
                rule,
                "configured",
            ));
        }
    }
    let settings = stored::settings(&mut tx, &product.id).await?;
    configs_bulk::reset(&mut tx).await?;
    let pairs = new_documents(&mut tx, caches, &product, &settings, body).await?;
    configs_bulk::plan_changes(&mut tx, &product.id, &pairs).await?;

    let details = event_details(body, &settings.secrets);
    let message = body.message.clone().unwrap_or_default();
    let change = Change::Configure {
        product_id: &product.id,
        message: &message,
        details: &details,
    };
    if body.dry_run {
        let mut refusals = missing_refusals(&missing, body.list);
        refusals.extend(outside_refusals(examples, &product));
        refusals.truncate(cap(body.list).unwrap_or(usize::MAX));
        sql::drop_outside(&mut tx, &product.id).await?;
        let refused = (missing.len() as u64 + outside, outside);
        return plan(&mut tx, &change, body.list, refused, refusals).await;
    }
    apply_and_commit(tx, principal, &change, body.list, fail_after_rows).await
}

/// For each distinct current override of the selected devices, its new text, when it changes
/// (`(old, new)`, `old` being [`NO_DOCUMENT`] for devices without one). Refuses (422, nothing
/// written) a document over the size limit or an effective configuration the schema rejects.
async fn new_documents(
    conn: &mut Conn,
    caches: &ConfigCaches,
    product: &Product,
    settings: &Settings,
    body: &ConfigureDevices,
) -> ApiResult<Vec<(String, String)>> {
    let current = configs_bulk::distinct_overrides(conn, &product.id).await?;
    let mut by_old: HashMap<String, Option<Map<String, Value>>> = HashMap::new();
    let mut to_check: BTreeSet<(Option<String>, String)> = BTreeSet::new();
    for (cohort, old) in current {
        let old_key = old.clone().unwrap_or_else(|| NO_DOCUMENT.to_owned());
        if !by_old.contains_key(&old_key) {
            let mut document = match &old {
                Some(text) => stored::parse_object(text)?,
                None => Map::new(),
            };
            let before = document.clone();
            patch_document(&mut document, &body.set, &body.unset, &settings.secrets);
            // A device without an override keeps having none when the change leaves it empty.
            let unchanged = document == before;
            by_old.insert(old_key.clone(), (!unchanged).then_some(document));
        }
        if let Some(Some(document)) = by_old.get(&old_key) {
            let text = Value::Object(document.clone()).to_string();
            to_check.insert((cohort, text));
        }
    }
    for (_, text) in &to_check {
        let size = text.len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(ApiError::validation(vec![FieldError {
                field: "set".into(),
                message: format!(
                    "a device's override would be {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}"
                ),
            }]));
        }
    }
    for (cohort, text) in &to_check {
        let document = stored::parse_object(text)?;
        let cohort_id = cohort.as_deref().and_then(CohortId::parse);
        let checked = Checked::Device {
            cohort: cohort_id.as_ref().map(|id| (id, id.as_str())),
            document: &document,
        };
        checks::check(conn, caches, product, settings, checked).await?;
    }
    Ok(by_old
        .into_iter()
        .filter_map(|(old, new)| new.map(|document| (old, Value::Object(document).to_string())))
        .collect())
}

/// Refuses (422) a cohort change of the selected devices that would leave a device with an
/// override in an effective configuration its product's schema rejects: the override merged
/// over `to_cohort`'s (`None`: no cohort) instead of its old cohort's. Devices without an
/// override get their new cohort's configuration, which was checked when it was written.
pub(super) async fn check_cohort_change(
    conn: &mut Conn,
    caches: &ConfigCaches,
    org_id: &OrgId,
    to_cohort: Option<&Cohort>,
) -> ApiResult<()> {
    for product_id in configs_bulk::selected_products(conn).await? {
        let Some(product_id) = ProductId::parse(&product_id) else {
            continue;
        };
        let settings = stored::settings(conn, &product_id).await?;
        if settings.schema.is_none() {
            continue;
        }
        let product = product_or_404(conn, org_id, product_id.as_str()).await?;
        let overrides: BTreeSet<String> = configs_bulk::distinct_overrides(conn, &product_id)
            .await?
            .into_iter()
            .filter_map(|(_, document)| document)
            .collect();
        for text in overrides {
            let document = stored::parse_object(&text)?;
            let checked = Checked::Device {
                cohort: to_cohort.map(|c| (&c.id, c.name.as_str())),
                document: &document,
            };
            checks::check(conn, caches, &product, &settings, checked).await?;
        }
    }
    Ok(())
}

/// What the audit event says was done, secret values masked like everything people see.
fn event_details(body: &ConfigureDevices, secrets: &[String]) -> Value {
    let mut written = Map::new();
    for (path, value) in &body.set {
        let keys: Vec<&str> = path.split('.').collect();
        set_path(&mut written, &keys, value.clone());
    }
    let masked = mask(&written, secrets);
    let set: Map<String, Value> = body
        .set
        .keys()
        .map(|path| {
            let keys: Vec<&str> = path.split('.').collect();
            let value = if document::is_secret(secrets, path) {
                Value::String(SECRET_MASK.to_owned())
            } else {
                document::get_path(&masked, &keys)
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            (path.clone(), value)
        })
        .collect();
    json!({
        "level": "device",
        "message": body.message.clone().unwrap_or_default(),
        "set": set,
        "unset": body.unset,
    })
}
