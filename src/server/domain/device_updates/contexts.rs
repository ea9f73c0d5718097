//! Devices' check-in contexts (`store::device_offers::context`) kept in memory, all of one
//! offers epoch, so a check-in of a device whose cohort, release, configuration and state did
//! not change makes no database read.
//!
//! The rule is the auth epoch's (see `server::auth_epoch`): the database's triggers bump the
//! offers epoch inside every transaction that can change a context, and every device request
//! reads the epochs fresh (one shared read with the auth epoch, started after the request
//! arrived), so a change committed before a request was sent is seen by that request on every
//! replica. A context is tagged with the epoch read *before* it was read: one read after a bump
//! it did not see is tagged with the older epoch and never served under the newer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::api::DeviceId;
use crate::server::store::device_offers::DeviceContext;

/// Contexts kept; past this many, new ones are not kept until the epoch moves (about 1 KB each:
/// 50,000 is about 50 MB). Not starting over when full keeps the hits for the devices that
/// are in, where starting over would give a fleet larger than this no hits at all.
pub const CONTEXTS_MAX: usize = 50_000;

/// The offers epoch a device request read when it arrived (put in its extensions by the gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffersEpoch(pub i64);

/// The contexts read under one offers epoch.
#[derive(Debug)]
pub struct ContextCache {
    max: usize,
    entries: Mutex<(i64, HashMap<DeviceId, Arc<DeviceContext>>)>,
}

impl Default for ContextCache {
    fn default() -> Self {
        ContextCache::with_max(CONTEXTS_MAX)
    }
}

impl ContextCache {
    pub fn with_max(max: usize) -> Self {
        ContextCache {
            max,
            entries: Mutex::new((i64::MIN, HashMap::new())),
        }
    }

    /// The device's context if it was read under `epoch`.
    pub fn get(&self, epoch: OffersEpoch, device: &DeviceId) -> Option<Arc<DeviceContext>> {
        let entries = self.lock();
        (entries.0 == epoch.0)
            .then(|| entries.1.get(device).cloned())
            .flatten()
    }

    /// Keeps a context read after `epoch` was read. An epoch newer than the cache's starts it
    /// over; an older one is stale already and is not kept.
    pub fn remember(&self, epoch: OffersEpoch, device: &DeviceId, context: &Arc<DeviceContext>) {
        let mut entries = self.lock();
        if entries.0 != epoch.0 {
            if entries.0 > epoch.0 {
                return;
            }
            *entries = (epoch.0, HashMap::new());
        }
        if entries.1.len() < self.max || entries.1.contains_key(device) {
            entries.1.insert(device.clone(), Arc::clone(context));
        }
    }

    fn lock(&self) -> MutexGuard<'_, (i64, HashMap<DeviceId, Arc<DeviceContext>>)> {
        // Entries are inserted whole: a poisoned map is still a map of complete entries.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(identifier: &str) -> Arc<DeviceContext> {
        let mut context = super::super::offer::tests::context(10);
        context.identifier = identifier.into();
        Arc::new(context)
    }

    #[test]
    fn a_context_is_served_only_under_the_epoch_it_was_read_in() {
        let cache = ContextCache::default();
        let (a, b) = (DeviceId::generate(), DeviceId::generate());
        cache.remember(OffersEpoch(3), &a, &context("a"));
        assert_eq!(cache.get(OffersEpoch(3), &a).expect("hit").identifier, "a");
        assert!(cache.get(OffersEpoch(3), &b).is_none(), "never read");
        assert!(cache.get(OffersEpoch(4), &a).is_none(), "the epoch moved");
        assert!(
            cache.get(OffersEpoch(2), &a).is_none(),
            "a request of an older read"
        );

        // Read under 4: the cache starts over, and 3's entry is gone for good.
        cache.remember(OffersEpoch(4), &b, &context("b"));
        assert!(cache.get(OffersEpoch(3), &a).is_none());
        assert_eq!(cache.get(OffersEpoch(4), &b).expect("hit").identifier, "b");

        // A context read by a request that arrived before the bump is stale: not kept.
        cache.remember(OffersEpoch(3), &a, &context("a"));
        assert!(cache.get(OffersEpoch(3), &a).is_none());
        assert!(cache.get(OffersEpoch(4), &a).is_none());
    }

    #[test]
    fn a_full_cache_keeps_its_entries_and_refreshes_them_but_takes_no_new_ones() {
        let cache = ContextCache::with_max(2);
        let ids: Vec<_> = (0..3).map(|_| DeviceId::generate()).collect();
        for (id, name) in ids.iter().zip(["a", "b", "c"]) {
            cache.remember(OffersEpoch(1), id, &context(name));
        }
        assert!(cache.get(OffersEpoch(1), &ids[0]).is_some());
        assert!(cache.get(OffersEpoch(1), &ids[1]).is_some());
        assert!(cache.get(OffersEpoch(1), &ids[2]).is_none(), "full");
        cache.remember(OffersEpoch(1), &ids[0], &context("a2"));
        assert_eq!(
            cache.get(OffersEpoch(1), &ids[0]).expect("hit").identifier,
            "a2"
        );
    }
}
