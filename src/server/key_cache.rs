//! The in-process cache of API keys that spares each authenticated request its key query. Each
//! entry carries the database's API key epoch (`store::auth_epoch`) as read *before* its row
//! was, and is used only while a fresh read of the epoch still gives that value (see
//! `auth_epoch` for how that read is made cheap and when it happens).
//!
//! Why a cached key is never trusted after it stops being valid:
//! - **Expiry** needs no invalidation: the cached `expires_at` is compared with the clock on
//!   every request, exactly as the database row would be.
//! - **Revocation** (and any other change that can narrow a key: expiry, role, scope, a deleted
//!   scope product, a deleted key) bumps the epoch in its own transaction, by database trigger,
//!   whoever makes it: the API, `fleet server api-key`, another replica, or a hand edit. An entry
//!   whose epoch is not the current one is never used, so a row read before a revocation
//!   committed is never used after it.
//! - **New keys** need no bump: unknown keys are never cached, so a key created anywhere
//!   (online or offline) works on its next request.
//! - Entries also expire after [`TTL`], which bounds memory use per key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::auth::Principal;

/// How long a cached key is kept.
pub const TTL: Duration = Duration::from_secs(10);
/// Past this many cached keys the cache starts afresh (only valid keys are ever cached).
const MAX_ENTRIES: usize = 10_000;

/// What authentication needs of a key row, parsed once.
#[derive(Debug)]
pub struct CachedKey {
    pub principal: Principal,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The newest epoch this replica has read; every entry was loaded under it.
    epoch: Option<i64>,
    entries: HashMap<[u8; 32], Entry>,
}

struct Entry {
    key: Arc<CachedKey>,
    loaded: Instant,
}

/// A cache hit, usable only if the epoch it was loaded under is still current.
pub struct Hit {
    pub key: Arc<CachedKey>,
    pub epoch: i64,
}

impl KeyCache {
    /// The cached key whose SHA-256 is `hash`, unless older than [`TTL`] at `now`. The caller
    /// must still check `Hit::epoch` against a fresh read of the epoch.
    pub fn get(&self, hash: &[u8; 32], now: Instant) -> Option<Hit> {
        let inner = self.lock();
        let epoch = inner.epoch?;
        let entry = inner.entries.get(hash)?;
        (now.duration_since(entry.loaded) < TTL).then(|| Hit {
            key: Arc::clone(&entry.key),
            epoch,
        })
    }

    /// The newest epoch seen, under which a key read from the database now may be cached.
    pub fn epoch(&self) -> Option<i64> {
        self.lock().epoch
    }

    /// Records an epoch read from the database: a newer one drops every entry. Epochs only grow,
    /// so an older one (a slow read overtaken by a faster) changes nothing.
    pub fn observe(&self, epoch: i64) {
        let mut inner = self.lock();
        if inner.epoch.is_none_or(|seen| epoch > seen) {
            inner.epoch = Some(epoch);
            inner.entries.clear();
        }
    }

    /// Caches `key`, whose row was read after `epoch` was, unless the epoch has moved since
    /// (the row may predate a revocation).
    pub fn insert(&self, hash: [u8; 32], key: Arc<CachedKey>, epoch: i64, now: Instant) {
        let mut inner = self.lock();
        if inner.epoch != Some(epoch) {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(hash, Entry { key, loaded: now });
    }

    /// How many keys are cached (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Role;

    fn key(name: &str) -> Arc<CachedKey> {
        Arc::new(CachedKey {
            principal: Principal {
                org_id: crate::api::OrgId::generate(),
                key_id: format!("key_{name}"),
                key_name: name.into(),
                role: Role::Read,
                scope: None,
            },
            expires_at: None,
            revoked: false,
        })
    }

    #[test]
    fn nothing_is_cached_before_an_epoch_was_read() {
        let cache = KeyCache::default();
        let now = Instant::now();
        assert_eq!(cache.epoch(), None);
        cache.observe(3);
        cache.insert([1; 32], key("one"), 3, now);
        let hit = cache.get(&[1; 32], now).expect("cached");
        assert_eq!(hit.epoch, 3);
    }

    #[test]
    fn a_newer_epoch_drops_entries_and_an_older_one_changes_nothing() {
        let cache = KeyCache::default();
        let now = Instant::now();
        cache.observe(5);
        cache.insert([1; 32], key("one"), 5, now);
        cache.observe(4);
        assert!(
            cache.get(&[1; 32], now).is_some(),
            "an older read is ignored"
        );
        cache.observe(6);
        assert!(cache.get(&[1; 32], now).is_none(), "stale after a bump");
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn rows_read_under_an_old_epoch_are_not_cached() {
        let cache = KeyCache::default();
        let now = Instant::now();
        cache.observe(1);
        let before = cache.epoch().expect("epoch");
        // Another request sees the bump first, then the slow one tries to insert.
        cache.observe(2);
        cache.insert([2; 32], key("two"), before, now);
        assert!(cache.get(&[2; 32], now).is_none());
    }

    #[test]
    fn entries_expire() {
        let cache = KeyCache::default();
        let now = Instant::now();
        cache.observe(0);
        cache.insert([4; 32], key("four"), 0, now);
        assert!(cache.get(&[4; 32], now + TTL / 2).is_some());
        assert!(cache.get(&[4; 32], now + TTL).is_none());
    }
}
