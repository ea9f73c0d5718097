//! The effective configuration as devices get it: found at check-in by the revisions it is made
//! of (one statement of primary-key lookups) and merged only when that combination was not
//! merged before; and how many devices run their latest one, for the statistics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::document::{effective, fingerprint};
use crate::api::config::ConfigStats;
use crate::api::device_api::{ConfigFailure, DeliveredConfig};
use crate::api::{CohortId, DeviceId, ProductId};
use crate::server::error::ApiResult;
use crate::server::store::Conn;
use crate::server::store::configs::{self, EffectiveKey};

/// Most merged configurations kept; past it the cache starts again. Devices without an
/// override share their cohort's entry, so this bounds the devices with overrides served
/// from memory, not the fleet.
const MAX_CACHED: usize = 50_000;

/// A merged configuration and the revision devices report for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub revision: i64,
    pub document: Map<String, Value>,
}

/// Merged configurations by the revisions they were made of. An entry never goes stale: a
/// change makes a new revision, so a new key.
#[derive(Debug, Default)]
pub struct EffectiveCache(Mutex<HashMap<EffectiveKey, Arc<Effective>>>);

impl EffectiveCache {
    fn get(&self, key: &EffectiveKey) -> Option<Arc<Effective>> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: EffectiveKey, value: Arc<Effective>) {
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, value);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EffectiveKey, Arc<Effective>>> {
        // Entries are inserted whole: a poisoned map is still a map of complete entries.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The device's effective configuration; `None` when nothing is configured for it.
pub async fn for_device(
    conn: &mut Conn,
    cache: &EffectiveCache,
    device_id: &DeviceId,
) -> ApiResult<Option<Arc<Effective>>> {
    let Some(key) = configs::effective_key(conn, device_id).await? else {
        return Ok(None);
    };
    if key.product_revision == 0 && key.cohort_revision == 0 && key.device_revision == 0 {
        return Ok(None);
    }
    if let Some(found) = cache.get(&key) {
        return Ok(Some(found));
    }
    let mut layers = Vec::new();
    let owners = [
        (Some(key.product_id.as_str()), key.product_revision),
        (
            key.cohort_id.as_ref().map(CohortId::as_str),
            key.cohort_revision,
        ),
        (
            key.device_id.as_ref().map(DeviceId::as_str),
            key.device_revision,
        ),
    ];
    for (owner, revision) in owners {
        if let Some(owner) = owner {
            if let Some(document) = configs::document_at(conn, owner, revision).await? {
                layers.push(document);
            }
        }
    }
    let document = effective(layers.iter());
    let merged = Arc::new(Effective {
        revision: fingerprint(&document),
        document,
    });
    cache.put(key, merged.clone());
    Ok(Some(merged))
}

/// What a check-in's answer carries: the effective configuration when the device runs
/// another one, unless it already said it cannot apply this one.
pub fn delivery(
    effective: Option<&Effective>,
    reported: Option<i64>,
    failure: Option<&ConfigFailure>,
) -> Option<DeliveredConfig> {
    let effective = effective?;
    if reported == Some(effective.revision)
        || failure.is_some_and(|f| f.revision == effective.revision)
    {
        return None;
    }
    Some(DeliveredConfig {
        revision: effective.revision,
        document: effective.document.clone(),
    })
}

/// How many of a product's devices (of one cohort, with `cohort`) run their latest effective
/// configuration; `None` when nothing is configured for the product.
pub async fn stats(
    conn: &mut Conn,
    product_id: &ProductId,
    cohort: Option<&CohortId>,
) -> ApiResult<Option<ConfigStats>> {
    let product_doc = configs::current(conn, product_id.as_str()).await?;
    let cohorts = configs::cohort_overrides(conn, product_id).await?;
    let with_override = configs::reported_with_override(conn, product_id).await?;
    if product_doc.is_none() && cohorts.is_empty() && with_override.is_empty() {
        return Ok(None);
    }
    let product_doc = product_doc.map(|d| d.document);
    let cohort_docs: HashMap<String, &Map<String, Value>> = cohorts
        .iter()
        .filter_map(|c| {
            c.cohort_id
                .as_ref()
                .map(|id| (id.as_str().to_owned(), &c.document))
        })
        .collect();
    let expected = |cohort_id: Option<&str>, device: Option<&Map<String, Value>>| {
        let cohort_doc = cohort_id.and_then(|c| cohort_docs.get(c).copied());
        if product_doc.is_none() && cohort_doc.is_none() && device.is_none() {
            return None;
        }
        let layers = [product_doc.as_ref(), cohort_doc, device];
        Some(fingerprint(&effective(layers.into_iter().flatten())))
    };
    let in_scope = |c: Option<&str>| cohort.is_none_or(|wanted| c == Some(wanted.as_str()));
    let mut stats = ConfigStats::default();
    let mut tally =
        |expected: Option<i64>, reported: Option<i64>, failure: Option<&str>, n: u64| {
            let failed = failure
                .and_then(|f| serde_json::from_str::<ConfigFailure>(f).ok())
                .is_some_and(|f| Some(f.revision) == expected);
            if reported == expected {
                stats.latest += n;
            } else if failed {
                stats.failed += n;
            } else {
                stats.pending += n;
            }
        };
    let mut per_cohort: HashMap<Option<String>, Option<i64>> = HashMap::new();
    for group in configs::reported_without_override(conn, product_id).await? {
        if !in_scope(group.cohort_id.as_deref()) {
            continue;
        }
        let want = *per_cohort
            .entry(group.cohort_id.clone())
            .or_insert_with(|| expected(group.cohort_id.as_deref(), None));
        let n = u64::try_from(group.devices).unwrap_or(0);
        tally(want, group.reported, group.failure.as_deref(), n);
    }
    for row in &with_override {
        if !in_scope(row.cohort_id.as_deref()) {
            continue;
        }
        let device = row
            .device_document
            .as_deref()
            .map(configs::parse_object)
            .transpose()?;
        let want = expected(row.cohort_id.as_deref(), device.as_ref());
        tally(want, row.reported, row.failure.as_deref(), 1);
    }
    Ok(Some(stats))
}
