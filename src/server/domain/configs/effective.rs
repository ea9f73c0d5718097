//! The effective configuration as devices get it: found at check-in by the revisions it is made
//! of (read with the check-in's context, `store::device_offers::context`) and merged only when
//! that combination was not merged before; and how many devices run their latest one, for the
//! statistics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::document::{effective, fingerprint};
use crate::api::config::ConfigStats;
use crate::api::device_api::{ConfigFailure, DeliveredConfig};
use crate::api::{CohortId, DeviceId, ProductId};
use crate::server::error::ApiResult;
use crate::server::store::configs::{self, EffectiveKey};
use crate::server::store::{Conn, LazyConn};

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
pub struct EffectiveCache {
    entries: Mutex<HashMap<EffectiveKey, Arc<Effective>>>,
    /// Documents merged since start: what a check-in costs when the cache misses.
    merges: AtomicU64,
}

impl EffectiveCache {
    /// How many effective configurations were merged (not found in the cache).
    #[cfg(test)]
    pub fn merges(&self) -> u64 {
        self.merges.load(Ordering::Relaxed)
    }

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
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The effective configuration made of `key`'s revisions; `None` when nothing is configured.
/// Reads the database only when that combination is not cached.
pub async fn for_key(
    conn: &mut LazyConn<'_>,
    cache: &EffectiveCache,
    key: &EffectiveKey,
) -> ApiResult<Option<Arc<Effective>>> {
    if key.product_revision == 0 && key.cohort_revision == 0 && key.device_revision == 0 {
        return Ok(None);
    }
    if let Some(found) = cache.get(key) {
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
            if let Some(document) = configs::document_at(conn.get().await?, owner, revision).await?
            {
                layers.push(document);
            }
        }
    }
    cache.merges.fetch_add(1, Ordering::Relaxed);
    let document = effective(layers.iter());
    let merged = Arc::new(Effective {
        revision: fingerprint(&document),
        document,
    });
    cache.put(key.clone(), merged.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::OrgId;
    use crate::server::store::configs::{Author, Owner};
    use crate::server::store::{self, test_pools};
    use serde_json::json;

    async fn seed(pool: &store::Pool) -> (ProductId, DeviceId) {
        let (product, device) = (ProductId::generate(), DeviceId::generate());
        let now = store::now();
        let mut tx = store::begin_write(pool).await.expect("begin");
        let org = OrgId::generate();
        for (sql, id) in [
            (
                "INSERT INTO organizations (id, name, created_at) VALUES ($1, 'o', $2)",
                org.as_str(),
            ),
            (
                "INSERT INTO products (id, org_id, name, created_at, updated_at) \
                 VALUES ($1, (SELECT id FROM organizations), 'p', $2, $2)",
                product.as_str(),
            ),
            (
                "INSERT INTO devices (id, org_id, product_id, updated_at) \
                 VALUES ($1, (SELECT id FROM organizations), (SELECT id FROM products), $2)",
                device.as_str(),
            ),
            (
                "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
                 VALUES ($1, (SELECT id FROM organizations), 'd', $2)",
                device.as_str(),
            ),
        ] {
            store::query(sql)
                .bind(id)
                .bind(now)
                .execute(&mut tx)
                .await
                .expect(sql);
        }
        tx.commit().await.expect("commit");
        (product, device)
    }

    async fn write(pool: &store::Pool, product: &ProductId, revision: i64, document: Value) {
        let Value::Object(document) = document else {
            panic!("an object");
        };
        let owner = Owner {
            product_id: product.clone(),
            cohort_id: None,
            device_id: None,
        };
        let author = Author {
            key_id: None,
            key_name: None,
        };
        let mut tx = store::begin_write(pool).await.expect("begin");
        configs::write(
            &mut tx,
            &owner,
            revision,
            &document,
            "",
            &author,
            store::now(),
        )
        .await
        .expect("write");
        tx.commit().await.expect("commit");
    }

    /// What a check-in does: the key from the device's context, then the configuration.
    async fn for_device(
        conn: &mut Conn,
        cache: &EffectiveCache,
        device: &DeviceId,
    ) -> ApiResult<Option<Arc<Effective>>> {
        let context = store::device_offers::context(conn, device)
            .await?
            .expect("the device exists");
        for_key(&mut LazyConn::held(conn), cache, &context.config).await
    }

    /// Check-ins with nothing changed read one row and merge nothing; a change merges once.
    #[tokio::test]
    async fn the_effective_configuration_is_merged_once_per_combination_of_revisions() {
        for (_guard, pool) in test_pools::all().await {
            let (product, device) = seed(&pool).await;
            let cache = EffectiveCache::default();
            let mut conn = pool.acquire().await.expect("conn");
            assert_eq!(
                for_device(&mut conn, &cache, &device).await.expect("read"),
                None
            );
            write(&pool, &product, 1, json!({"log": "info"})).await;
            let first = for_device(&mut conn, &cache, &device).await.expect("read");
            for _ in 0..10 {
                let again = for_device(&mut conn, &cache, &device).await.expect("read");
                assert_eq!(again, first);
            }
            assert_eq!(cache.merges(), 1);
            write(&pool, &product, 2, json!({"log": "debug"})).await;
            let second = for_device(&mut conn, &cache, &device).await.expect("read");
            assert_eq!(cache.merges(), 2);
            let (first, second) = (first.expect("configured"), second.expect("configured"));
            assert_ne!(first.revision, second.revision);
            assert_eq!(
                Value::Object(second.document.clone()),
                json!({"log": "debug"})
            );
        }
    }
}
