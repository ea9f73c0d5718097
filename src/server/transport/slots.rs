//! The connection cap. At most `max` connections are open at once. When every slot is taken,
//! the connection that has been idle the longest (no request being handled or answered) is
//! closed to make room, so connections that send nothing (or one request and then nothing)
//! cannot keep new clients out; when none is idle, new connections wait in the listen backlog
//! until one finishes.

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

    /// A free slot for the next connection; when there is none, the longest-idle connection is
    /// told to close first, and this waits until some connection has closed.
    pub async fn acquire(self: &Arc<Self>) -> Slot {
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
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.epoch));
        self.lock().insert(id, Arc::clone(&activity));
        Slot {
            id,
            slots: Arc::clone(self),
            activity,
            _permit: permit,
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

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().remove(&self.id);
    }
}
