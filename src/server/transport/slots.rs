//! The connection cap. At most `max` connections are open at once. When every slot is taken,
//! the connection that has been idle the longest (no request being handled or answered) is
//! closed to make room, so connections that send nothing (or one request and then nothing)
//! cannot keep new clients out; when none is idle, new connections wait in the listen backlog
//! until one finishes.
//!
//! A place is reserved before `accept` (so the cap holds back the backlog) but a connection's
//! [`Activity`] starts only when a connection takes it: its idle clock must not count the time
//! the accept loop waited for a client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::activity::Activity;

pub struct Slots {
    max: usize,
    permits: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    epoch: Instant,
}

/// A place held for the next connection to be accepted; dropping it frees the place.
pub struct Reservation {
    slots: Arc<Slots>,
    permit: OwnedSemaphorePermit,
}

/// One open connection's place; dropping it frees the place.
pub struct Slot {
    id: u64,
    slots: Arc<Slots>,
    pub activity: Arc<Activity>,
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max,
            permits: Arc::new(Semaphore::new(max)),
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// A free place for the next connection; when there is none, the longest-idle connection
    /// is told to close first, and this waits until some connection has closed.
    pub async fn reserve(self: &Arc<Self>) -> Reservation {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.shed_longest_idle();
                match Arc::clone(&self.permits).acquire_owned().await {
                    Ok(permit) => permit,
                    // The semaphore is never closed; should it be, nothing is accepted again.
                    Err(_) => std::future::pending().await,
                }
            }
        };
        Reservation {
            slots: Arc::clone(self),
            permit,
        }
    }

    /// Resolves once every connection has closed.
    pub async fn all_closed(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.permits.acquire_many(all).await;
    }

    fn shed_longest_idle(&self) {
        let mut open = self.lock();
        let victim = open
            .iter()
            .filter_map(|(id, activity)| activity.idle_since().map(|since| (since, *id)))
            .min();
        if let Some((_, id)) = victim
            && let Some(activity) = open.remove(&id)
        {
            tracing::debug!(
                connections = self.max,
                "at the connection cap; closing the longest-idle connection"
            );
            activity.shed.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Reservation {
    /// The place, taken by a connection accepted just now: its activity starts now.
    pub fn open(self) -> Slot {
        let Reservation { slots, permit } = self;
        let id = slots.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(slots.epoch));
        slots.lock().insert(id, Arc::clone(&activity));
        Slot {
            id,
            slots,
            activity,
            _permit: permit,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_connection_idle_clock_starts_at_accept_not_at_reservation() {
        let slots = Slots::new(1);
        let reservation = slots.reserve().await;
        // The accept loop may wait minutes for a client with the place reserved.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let accepted = Instant::now();
        let slot = reservation.open();
        // `last_io` has millisecond resolution.
        assert!(
            slot.activity.last_io() + Duration::from_millis(1) >= accepted,
            "the new connection looks idle since before it was accepted"
        );
    }

    #[tokio::test]
    async fn a_reservation_holds_a_place_until_dropped_or_closed() {
        let slots = Slots::new(1);
        let reservation = slots.reserve().await;
        assert!(slots.permits.try_acquire().is_err(), "the place is held");
        let slot = reservation.open();
        assert!(slots.permits.try_acquire().is_err(), "the place is held");
        drop(slot);
        assert!(
            slots.permits.try_acquire().is_ok(),
            "a closed connection frees its place"
        );
        assert!(slots.lock().is_empty(), "nothing is left registered");
    }
}
