//! The whole-file SHA-256 of uploads in progress, advanced in the background as contiguous
//! parts arrive, so `complete` hashes at most the parts that came late or out of order instead
//! of reading the whole binary again.
//!
//! This is only a cache. Part objects are content-addressed (their key holds their digest), so
//! the bytes behind a hashed part never change; `complete` still checks every hashed part's
//! digest against the database's record (the truth for every replica, and across restarts)
//! and hashes whatever the cache lacks or got wrong from the stored parts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::part_key;
use crate::api::BinaryId;
use crate::server::blobs::Blobs;

/// Uploads whose running digest is kept; the least recently touched is dropped beyond this
/// (an abandoned upload then costs a re-read if it is ever completed).
const MAX_RUNNING: usize = 64;

/// The digest of parts `1..=hashed.len()` of one upload, and the parts known to have arrived.
#[derive(Debug)]
pub struct Running {
    prefix: String,
    hasher: Sha256,
    size: u64,
    /// SHA-256 of each hashed part, in order.
    hashed: Vec<String>,
    /// Parts stored by this process (number → SHA-256) that are not hashed yet.
    arrived: BTreeMap<u64, String>,
}

impl Running {
    fn new(prefix: &str) -> Self {
        Running {
            prefix: prefix.to_owned(),
            hasher: Sha256::new(),
            size: 0,
            hashed: Vec::new(),
            arrived: BTreeMap::new(),
        }
    }

    /// The hasher, byte count and number of leading parts hashed, if they agree with `parts`
    /// (every stored part's SHA-256, in order) for the upload under `prefix`.
    pub fn usable_for(&self, prefix: &str, parts: &[String]) -> Option<(Sha256, u64, usize)> {
        let agrees = self.prefix == prefix
            && self.hashed.len() <= parts.len()
            && self.hashed.iter().zip(parts).all(|(a, b)| a == b);
        agrees.then(|| (self.hasher.clone(), self.size, self.hashed.len()))
    }

    /// How many leading parts are hashed (tests).
    #[cfg(test)]
    fn hashed_parts(&self) -> usize {
        self.hashed.len()
    }
}

/// One upload's running digest, shared between the part handlers and `complete`.
type Shared = Arc<AsyncMutex<Running>>;

#[derive(Debug, Default)]
pub struct RunningDigests {
    /// Each with when it was last touched.
    entries: Mutex<HashMap<BinaryId, (Instant, Shared)>>,
}

impl RunningDigests {
    fn entry(&self, id: &BinaryId, prefix: &str) -> Shared {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(id) && entries.len() >= MAX_RUNNING {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (touched, _))| *touched)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        let (touched, running) = entries.entry(id.clone()).or_insert_with(|| {
            (
                Instant::now(),
                Arc::new(AsyncMutex::new(Running::new(prefix))),
            )
        });
        *touched = Instant::now();
        running.clone()
    }

    /// Notes that part `number` with SHA-256 `digest` of the upload under `prefix` is stored,
    /// and hashes on in the background as far as the parts are contiguous.
    pub fn part_stored(
        self: &Arc<Self>,
        blobs: &Blobs,
        id: &BinaryId,
        prefix: &str,
        number: u64,
        digest: &str,
    ) {
        let (this, blobs, id) = (self.clone(), blobs.clone(), id.clone());
        let (prefix, digest) = (prefix.to_owned(), digest.to_owned());
        tokio::spawn(async move {
            this.record(&blobs, &id, &prefix, number, digest).await;
        });
    }

    /// [`Self::part_stored`], awaited.
    async fn record(
        &self,
        blobs: &Blobs,
        id: &BinaryId,
        prefix: &str,
        number: u64,
        digest: String,
    ) {
        let mut running = self.entry(id, prefix).lock_owned().await;
        if running.prefix != prefix {
            // The upload was started over with another file.
            *running = Running::new(prefix);
        }
        let Some(index) = usize::try_from(number).ok().and_then(|n| n.checked_sub(1)) else {
            return; // Part numbers start at 1 (the handler checked).
        };
        if running.hashed.get(index).is_some_and(|d| *d != digest) {
            // A hashed part was replaced with other bytes: start over from what is known.
            let mut fresh = Running::new(prefix);
            fresh.arrived = std::mem::take(&mut running.arrived);
            for (n, d) in running.hashed.drain(..).enumerate() {
                fresh.arrived.insert(n as u64 + 1, d);
            }
            *running = fresh;
        }
        if index >= running.hashed.len() {
            running.arrived.insert(number, digest);
        }
        advance(blobs, &mut running).await;
    }

    /// The running digest of `id`, locked: waits for a part being hashed right now.
    pub async fn lock(&self, id: &BinaryId) -> Option<OwnedMutexGuard<Running>> {
        let running = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(id).map(|(_, running)| running.clone())
        }?;
        Some(running.lock_owned().await)
    }

    /// Forgets `id` (its upload is complete).
    pub fn remove(&self, id: &BinaryId) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(id);
    }
}

/// Hashes the next parts while they are there; a read failure forgets the running digest
/// (complete then reads the stored parts itself).
async fn advance(blobs: &Blobs, running: &mut Running) {
    loop {
        let next = running.hashed.len() as u64 + 1;
        let Some(digest) = running.arrived.remove(&next) else {
            return;
        };
        let key = part_key(&running.prefix, next, &digest);
        let mut hasher = running.hasher.clone();
        let mut size = 0u64;
        let read = async {
            let mut stream = blobs.read(&key).await?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            Ok::<_, object_store::Error>(())
        };
        if let Err(err) = read.await {
            tracing::debug!(error = %err, key, "running digest gave up; complete will re-read");
            *running = Running::new(&running.prefix);
            return;
        }
        running.hasher = hasher;
        running.size += size;
        running.hashed.push(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    async fn store(blobs: &Blobs, prefix: &str, number: u64, bytes: &[u8]) -> String {
        let digest = hex(bytes);
        let mut writer = blobs
            .writer(&part_key(prefix, number, &digest))
            .await
            .expect("writer");
        writer
            .write(bytes::Bytes::copy_from_slice(bytes))
            .await
            .expect("write");
        writer.finish().await.expect("finish");
        digest
    }

    #[tokio::test]
    async fn parts_arriving_out_of_order_are_hashed_in_order_once_contiguous() {
        let (blobs, digests) = (Blobs::in_memory(), RunningDigests::default());
        let id = BinaryId::generate();
        let parts: [&[u8]; 3] = [b"first part ", b"second part ", b"third"];
        let mut all = Vec::new();
        for (n, bytes) in [(3u64, parts[2]), (2, parts[1])] {
            let d = store(&blobs, "p", n, bytes).await;
            digests.record(&blobs, &id, "p", n, d).await;
        }
        assert_eq!(digests.lock(&id).await.expect("entry").hashed_parts(), 0);
        let d1 = store(&blobs, "p", 1, parts[0]).await;
        digests.record(&blobs, &id, "p", 1, d1.clone()).await;
        all.extend(parts.concat());
        let running = digests.lock(&id).await.expect("entry");
        assert_eq!(running.hashed_parts(), 3);
        let known: Vec<String> = parts.iter().map(|p| hex(p)).collect();
        let (hasher, size, n) = running.usable_for("p", &known).expect("agrees");
        assert_eq!((size, n), (all.len() as u64, 3));
        assert_eq!(format!("{:x}", hasher.finalize()), hex(&all));
        assert!(running.usable_for("other-prefix", &known).is_none());
        let mut changed = known.clone();
        changed[1] = hex(b"other bytes");
        assert!(running.usable_for("p", &changed).is_none());
    }

    #[tokio::test]
    async fn a_replaced_hashed_part_restarts_the_running_digest() {
        let (blobs, digests) = (Blobs::in_memory(), RunningDigests::default());
        let id = BinaryId::generate();
        for (n, bytes) in [(1u64, b"aaaa"), (2, b"bbbb")] {
            let d = store(&blobs, "p", n, bytes).await;
            digests.record(&blobs, &id, "p", n, d).await;
        }
        let d1 = store(&blobs, "p", 1, b"AAAA").await;
        digests.record(&blobs, &id, "p", 1, d1.clone()).await;
        let running = digests.lock(&id).await.expect("entry");
        assert_eq!(running.hashed_parts(), 2);
        let known = vec![d1, hex(b"bbbb")];
        let (hasher, _, _) = running.usable_for("p", &known).expect("agrees");
        assert_eq!(format!("{:x}", hasher.finalize()), hex(b"AAAAbbbb"));
    }

    #[tokio::test]
    async fn a_missing_part_object_drops_the_running_digest() {
        let (blobs, digests) = (Blobs::in_memory(), RunningDigests::default());
        let id = BinaryId::generate();
        digests
            .record(&blobs, &id, "p", 1, hex(b"never stored"))
            .await;
        let running = digests.lock(&id).await.expect("entry");
        assert_eq!(running.hashed_parts(), 0);
        assert!(running.usable_for("p", &[hex(b"never stored")]).is_some());
    }
}
