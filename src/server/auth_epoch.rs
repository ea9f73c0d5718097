//! How a replica knows that a cached API key is still valid: by the database's API key epoch
//! (`store::auth_epoch`), read fresh for every request that would use a cached key, with the
//! reads of concurrent requests shared; and, on PostgreSQL, `LISTEN`ed to so revocations
//! reach idle replicas at once.
//!
//! The rule: a revocation through any replica is refused on the very next request by every
//! replica. The revoking transaction bumps the epoch and commits before its answer is sent, so
//! a request sent after that answer arrives after the commit. Such a request uses a cached key
//! only if an epoch read that *started after the request arrived* gives the entry's epoch.
//!
//! Why a read per request, and not `NOTIFY` alone: a notification travels to each replica on
//! its own connection, independently of the revoking replica's answer; the client's next
//! request can overtake it (two cores, a busy listener task, a reconnecting listener). Trusting
//! a connected listener would leave a window, small but real, in which a revoked key works.
//! The read closes it, and is made cheap:
//! - It is one single-row primary-key `SELECT`: far less work than the key query it replaces
//!   (a join with the key's scope).
//! - Reads are shared: a request waits for the next read that starts after it arrived, and one
//!   read serves every request that arrived while the previous one ran. So a replica has at
//!   most one epoch read in flight, whatever its load: under load the cost per request falls
//!   with concurrency, and at low load one small query per request costs little.
//! - Requests without a cached key (unknown keys, the first request of a key) make no epoch
//!   read: the key query reads the row itself, and the entry is tagged with the newest epoch
//!   seen before it.
//!
//! `NOTIFY` (PostgreSQL) and a poll (both backends) keep the replica's newest epoch current
//! between requests: cached keys of a revoked epoch are dropped when the revocation commits
//! rather than on the next request, and a listener that reconnects, having possibly missed
//! notifications, re-reads the epoch then. Neither is needed for the rule above.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::key_cache::KeyCache;
use super::store::auth_epoch::Epochs;
use super::store::{self, Pool};

/// How often the epoch is polled besides notifications.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// Shared, fresh reads of the epoch, each result also given to the key cache.
pub struct EpochReader {
    pool: Pool,
    cache: Arc<KeyCache>,
    reads: Mutex<Reads>,
    done: watch::Sender<Done>,
}

#[derive(Default)]
struct Reads {
    /// Sequence number of the newest read started.
    started: u64,
    /// Whether a read is in flight.
    running: bool,
    /// Whether a request arrived during the read in flight and needs one more.
    more: bool,
    /// Reads made so far (for tests).
    made: u64,
}

/// The newest finished read: its sequence number and its epochs (`None`: the read failed).
#[derive(Clone, Copy, Default)]
struct Done {
    seq: u64,
    epochs: Option<Epochs>,
}

impl EpochReader {
    pub fn new(pool: Pool, cache: Arc<KeyCache>) -> Arc<EpochReader> {
        Arc::new(EpochReader {
            pool,
            cache,
            reads: Mutex::default(),
            done: watch::Sender::new(Done::default()),
        })
    }

    /// The API key epoch, from a read that started after this call; `None` when the database
    /// could not be read (the caller then trusts no cached key).
    pub async fn fresh(self: &Arc<Self>) -> Option<i64> {
        self.fresh_epochs().await.map(|epochs| epochs.auth)
    }

    /// Both epochs, from one read that started after this call (see [`Self::fresh`]).
    pub async fn fresh_epochs(self: &Arc<Self>) -> Option<Epochs> {
        let mut done = self.done.subscribe();
        let needed = {
            let mut reads = self.lock();
            let needed = reads.started + 1;
            if reads.running {
                reads.more = true;
            } else {
                reads.running = true;
                reads.started = needed;
                // A task of its own, so a request that goes away mid-read never leaves the
                // others waiting for a read nobody finishes.
                tokio::spawn(Arc::clone(self).read_until_caught_up(needed));
            }
            needed
        };
        done.wait_for(|done| done.seq >= needed).await.ok()?.epochs
    }

    /// Reads the epoch as read number `seq`, then again as long as requests arrived meanwhile.
    async fn read_until_caught_up(self: Arc<Self>, mut seq: u64) {
        loop {
            let epochs = match store::auth_epoch::read(&self.pool).await {
                Ok(epochs) => {
                    self.cache.observe(epochs.auth);
                    Some(epochs)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not read the API key epoch; \
                        cached keys are not used until it can be read");
                    None
                }
            };
            self.done.send_replace(Done { seq, epochs });
            let mut reads = self.lock();
            reads.made += 1;
            if !reads.more {
                reads.running = false;
                return;
            }
            reads.more = false;
            reads.started += 1;
            seq = reads.started;
        }
    }

    /// How many reads were made (for tests).
    #[cfg(test)]
    fn reads_made(&self) -> u64 {
        self.lock().made
    }

    fn lock(&self) -> MutexGuard<'_, Reads> {
        self.reads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The task that follows the epoch between requests (poll; on PostgreSQL also `LISTEN`).
pub struct Follower {
    task: JoinHandle<()>,
}

impl Follower {
    /// Follows the epoch until `stop` resolves.
    pub fn start(
        reader: Arc<EpochReader>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Follower {
            task: tokio::spawn(follow(reader, stop)),
        }
    }

    /// Waits for the task to end (after its stop signal).
    pub async fn join(self) {
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "the API key epoch task failed");
        }
    }
}

async fn follow(reader: Arc<EpochReader>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // `None` inside: SQLite, nothing to listen to.
    let mut listener: Option<Option<(sqlx::postgres::PgListener, String)>> = None;
    loop {
        if listener.is_none() {
            match store::auth_epoch::listen(&reader.pool).await {
                Ok(connected) => {
                    listener = Some(connected);
                    // Listening from here on; what committed before is read now.
                    reader.fresh().await;
                }
                Err(err) => tracing::warn!(error = %err,
                    "could not listen for API key revocations; polling until it can"),
            }
        }
        let notified = async {
            match &mut listener {
                Some(Some((pg, schema))) => Some((pg.try_recv().await, schema.as_str())),
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut stop => return,
            _ = poll.tick() => {
                reader.fresh().await;
            }
            Some((received, schema)) = notified => match received {
                Ok(Some(notification)) => {
                    if notification.payload() == schema {
                        reader.fresh().await;
                    }
                }
                // The connection was lost, and notifications with it: listen anew, then
                // re-read (the next turn of the loop).
                Ok(None) => listener = None,
                Err(err) => {
                    tracing::warn!(error = %err, "lost the API key revocation listener; reconnecting");
                    listener = None;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn reader() -> (tempfile::TempDir, Arc<EpochReader>, Arc<KeyCache>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = store::open(&dir.path().join("test.db"))
            .await
            .expect("open");
        let cache = Arc::new(KeyCache::default());
        (dir, EpochReader::new(pool, Arc::clone(&cache)), cache)
    }

    async fn bump(reader: &EpochReader) {
        let mut conn = reader.pool.acquire_writer().await.expect("writer");
        store::query("UPDATE auth_epoch SET epoch = epoch + 1")
            .execute(&mut conn)
            .await
            .expect("bump");
    }

    #[tokio::test]
    async fn a_read_sees_every_bump_committed_before_it_was_asked_for() {
        let (_dir, reader, cache) = reader().await;
        assert_eq!(reader.fresh().await, Some(0));
        assert_eq!(cache.epoch(), Some(0));
        bump(&reader).await;
        assert_eq!(reader.fresh().await, Some(1));
        assert_eq!(cache.epoch(), Some(1), "the cache saw the read");
    }

    /// Current-thread runtime: the spawned read cannot finish before every caller asked.
    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_callers_share_reads_but_never_one_started_before_they_asked() {
        let (_dir, reader, _cache) = reader().await;
        let epochs = futures_util::future::join_all((0..100).map(|_| reader.fresh())).await;
        assert!(epochs.iter().all(|epoch| *epoch == Some(0)), "{epochs:?}");
        // The first caller started a read; the 99 others arrived while it was in flight, so
        // they needed one that started later: exactly one more.
        assert_eq!(reader.reads_made(), 2);
    }
}
