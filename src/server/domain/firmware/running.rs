//! The whole-file SHA-256 of uploads in progress ('parts' layout), advanced in the background
//! as contiguous parts are recorded, so `complete` hashes at most the parts that came late or
//! out of order instead of reading the whole binary again.
//!
//! With several replicas on one database this is one replica's job per upload: the replica
//! that holds the upload's digest claim (a database row with an owner and a heartbeat) hashes
//! every recorded part in order, whichever replica received it; the others leave it alone,
//! and take the claim over only once its heartbeat is stale (the owner died). The state lives
//! in the owner's memory: `complete` on another replica reads the stored parts itself.
//!
//! This is only a cache. A part object's key holds its digest, or for a part checked by CRC32C
//! a tag unique to that receipt, so the bytes behind a hashed part never change; `complete` still checks every hashed part's
//! digest against the database's record (the truth for every replica, and across restarts)
//! and hashes whatever the cache lacks or got wrong from the stored parts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::part_key;
use crate::api::BinaryId;
use crate::server::blobs::Blobs;
use crate::server::store::firmware::{binaries, digest_claims};
use crate::server::store::{self, Pool};

/// Uploads whose running digest is kept; the least recently touched is dropped beyond this
/// (an abandoned upload then costs a re-read if it is ever completed).
const MAX_RUNNING: usize = 64;
/// Bytes of received parts kept for the running digest ([`KeptPart`]) in one replica; a
/// part that finds this full is read back from the store when its turn comes, as before.
const MAX_RECEIVED_BYTES: usize = 64 * 1024 * 1024;
/// How long a received part waits for room among the kept ones while this replica's digest of
/// its upload is behind: hashing it from memory a moment later costs less than reading it back
/// from the store (a digest that fell behind read most later parts back, and fell further).
const KEEP_WAIT: Duration = Duration::from_secs(1);
/// A digest claim whose owner has not renewed it for this long is free to take: hashing one
/// part renews it, so only a replica that died (or stalls far beyond a part's read) loses it.
const CLAIM_STALE_AFTER: Duration = Duration::from_secs(120);
/// A claim this replica renewed less than this long ago is still its own (no other replica may
/// take it before [`CLAIM_STALE_AFTER`]), so hashing the next part does not write it again:
/// a write per part queued the digest behind the parts' own writes, and a digest that falls
/// behind reads parts back from the store instead of hashing what it kept.
const CLAIM_RENEW_AFTER: Duration = Duration::from_secs(15);

/// The digest of parts `1..=hashed.len()` of one upload.
#[derive(Debug)]
pub struct Running {
    prefix: String,
    hasher: Sha256,
    size: u64,
    /// The tag ([`crate::api::ReceivedPart::tag`]) of each hashed part, in order.
    hashed: Vec<String>,
    /// Whether a recorded part can be read back from the store ('parts' layout). A part of an
    /// unfinished multipart upload cannot: only parts kept by this replica are hashed then.
    readable: bool,
}

/// A part as this replica received it (the chunks that arrived, already checked and stored
/// under `tag`), kept until the running digest reaches it: hashing it from memory spares
/// reading each part back from the store, a second pass over every byte of the push.
#[derive(Debug)]
pub struct KeptPart {
    pub number: u64,
    pub tag: String,
    pub chunks: Vec<bytes::Bytes>,
}

impl KeptPart {
    fn len(&self) -> usize {
        self.chunks.iter().map(bytes::Bytes::len).sum()
    }
}

/// The parts kept for the running digests, and their bytes in all.
#[derive(Debug, Default)]
struct Received {
    parts: HashMap<(BinaryId, u64), KeptPart>,
    bytes: usize,
    /// The part each running digest of this replica needs next, by upload: that part is kept
    /// whatever the budget says (the others wait for it), so the digest never waits on them.
    fronts: HashMap<BinaryId, u64>,
}

impl Received {
    fn take(&mut self, id: &BinaryId, number: u64) -> Option<KeptPart> {
        let part = self.parts.remove(&(id.clone(), number))?;
        self.bytes -= part.len();
        Some(part)
    }

    fn forget(&mut self, id: &BinaryId) {
        let numbers: Vec<u64> = self
            .parts
            .keys()
            .filter(|(of, _)| of == id)
            .map(|(_, number)| *number)
            .collect();
        for number in numbers {
            self.take(id, number);
        }
        self.fronts.remove(id);
    }

    /// Drops the parts of `id` numbered `..=hashed`: their turn has passed (a part kept while
    /// the running digest read it from the store, or received again after it was hashed), so
    /// they would only hold the budget.
    fn forget_hashed(&mut self, id: &BinaryId, hashed: u64) {
        let numbers: Vec<u64> = self
            .parts
            .keys()
            .filter(|(of, number)| of == id && *number <= hashed)
            .map(|(_, number)| *number)
            .collect();
        for number in numbers {
            self.take(id, number);
        }
    }
}

impl Running {
    fn new(prefix: &str, readable: bool) -> Self {
        Running {
            prefix: prefix.to_owned(),
            hasher: Sha256::new(),
            size: 0,
            hashed: Vec::new(),
            readable,
        }
    }

    /// The hasher, byte count and number of leading parts hashed, if they agree with `parts`
    /// (every stored part's tag, in order) for the upload under `prefix`.
    pub fn usable_for(&self, prefix: &str, parts: &[String]) -> Option<(Sha256, u64, usize)> {
        let agrees = self.prefix == prefix
            && self.hashed.len() <= parts.len()
            && self.hashed.iter().zip(parts).all(|(a, b)| a == b);
        agrees.then(|| (self.hasher.clone(), self.size, self.hashed.len()))
    }

    /// Whether every hashed part is still the recorded one (`recorded`: number → tag).
    fn agrees_with(&self, recorded: &BTreeMap<u64, String>) -> bool {
        self.hashed
            .iter()
            .enumerate()
            .all(|(i, digest)| recorded.get(&(i as u64 + 1)) == Some(digest))
    }

    /// Starts over when a hashed part is no longer the recorded one (it was sent again).
    fn follow(&mut self, recorded: &BTreeMap<u64, String>) {
        if !self.agrees_with(recorded) {
            *self = Running::new(&self.prefix, self.readable);
        }
    }

    /// Hashes the part after the hashed ones if `recorded` has it: whether it did. The bytes
    /// come from `kept` (this replica received them) when it holds that part under the
    /// recorded tag, else from the store. A read failure drops the state (complete then reads
    /// the stored parts itself).
    async fn hash_next(
        &mut self,
        blobs: &Blobs,
        recorded: &BTreeMap<u64, String>,
        kept: impl FnOnce(u64) -> Option<KeptPart>,
    ) -> bool {
        let next = self.hashed.len() as u64 + 1;
        let Some(tag) = recorded.get(&next) else {
            return false;
        };
        let mut hasher = self.hasher.clone();
        let mut size = 0u64;
        // A tag names one receipt's bytes: kept chunks under it are the stored part.
        if let Some(part) = kept(next).filter(|part| part.tag == *tag) {
            for chunk in &part.chunks {
                size += chunk.len() as u64;
                hasher.update(chunk);
            }
            self.hasher = hasher;
            self.size += size;
            self.hashed.push(tag.clone());
            return true;
        }
        if !self.readable {
            // Not kept here and not readable before the upload is assembled: the digest stops
            // at this part, and `complete` reads the assembled object instead.
            return false;
        }
        tracing::debug!(part = next, prefix = %self.prefix, "running digest reads a part back from the store");
        let read = async {
            let mut stream = super::read_part(blobs, &self.prefix, next, tag).await?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            Ok::<_, object_store::Error>(())
        };
        if let Err(err) = read.await {
            let key = part_key(&self.prefix, next, tag);
            tracing::debug!(error = %err, key, "running digest gave up; complete will re-read");
            *self = Running::new(&self.prefix, self.readable);
            return false;
        }
        self.hasher = hasher;
        self.size += size;
        self.hashed.push(tag.clone());
        true
    }

    /// How many leading parts are hashed (tests).
    #[cfg(test)]
    fn hashed_parts(&self) -> usize {
        self.hashed.len()
    }
}

/// One upload's running digest, shared between the part handlers and `complete`.
type Shared = Arc<AsyncMutex<Running>>;

#[derive(Debug)]
pub struct RunningDigests {
    /// This replica's name in digest claims (random per process).
    owner: String,
    /// Each with when it was last touched.
    entries: Mutex<HashMap<BinaryId, (Instant, Shared)>>,
    /// Parts received here, until this replica's running digest takes them.
    received: Mutex<Received>,
    /// Woken when kept bytes are freed or a digest moves on: parts waiting to be kept retry.
    room: tokio::sync::Notify,
    /// The claims this replica holds: upload, its prefix, and when the claim was last written.
    claims: Mutex<HashMap<BinaryId, (String, DateTime<Utc>)>>,
}

impl Default for RunningDigests {
    fn default() -> Self {
        RunningDigests {
            owner: uuid::Uuid::now_v7().simple().to_string(),
            entries: Mutex::default(),
            received: Mutex::default(),
            room: tokio::sync::Notify::new(),
            claims: Mutex::default(),
        }
    }
}

impl RunningDigests {
    fn entry(&self, id: &BinaryId, prefix: &str, readable: bool) -> Shared {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(id) && entries.len() >= MAX_RUNNING {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (touched, _))| *touched)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
                self.forget_upload(&oldest);
            }
        }
        let (touched, running) = entries.entry(id.clone()).or_insert_with(|| {
            (
                Instant::now(),
                Arc::new(AsyncMutex::new(Running::new(prefix, readable))),
            )
        });
        *touched = Instant::now();
        running.clone()
    }

    fn received(&self) -> std::sync::MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `part` of `id` for the running digest. The part this replica's digest of `id`
    /// needs next is always kept; another that would pass [`MAX_RECEIVED_BYTES`] waits up to
    /// [`KEEP_WAIT`] for the digest to free room when this replica runs that digest, and is
    /// otherwise not kept (the digest reads it back from the store when its turn comes).
    /// Called before the part is recorded: once recorded, any replica's digest may reach it.
    pub async fn keep(&self, id: &BinaryId, part: KeptPart) {
        let deadline = tokio::time::Instant::now() + KEEP_WAIT;
        loop {
            // Registered before the check, so room freed right after it still wakes this.
            let room = self.room.notified();
            {
                let mut received = self.received();
                received.take(id, part.number);
                let len = part.len();
                let front = received.fronts.get(id).copied();
                if received.bytes + len <= MAX_RECEIVED_BYTES || front == Some(part.number) {
                    received.bytes += len;
                    received.parts.insert((id.clone(), part.number), part);
                    return;
                }
                // Only a digest running here frees room for this upload's parts, and a part
                // whose turn has passed has nothing to wait for.
                if front.is_none_or(|front| part.number < front) {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                return;
            }
        }
    }

    /// Takes the kept part `number` of `id` for hashing, waking the parts that wait for the
    /// room it frees.
    fn take_kept(&self, id: &BinaryId, number: u64) -> Option<KeptPart> {
        self.release(|received| received.take(id, number))
    }

    /// Changes what this replica keeps, then wakes the parts waiting for room: every change
    /// that frees kept bytes or moves a digest's next part goes through here.
    fn release<T>(&self, change: impl FnOnce(&mut Received) -> T) -> T {
        let changed = change(&mut self.received());
        self.room.notify_waiters();
        changed
    }

    /// Notes which part `running`, the digest of `id`, needs next, if it can read parts back
    /// from the store: such a digest always moves on, so parts may wait for it. One that cannot
    /// (a multipart upload before it is assembled) stops at a part another replica received,
    /// and would keep parts waiting for nothing.
    fn note_front(&self, id: &BinaryId, running: &Running) {
        if running.readable {
            self.set_front(id, running.hashed.len() as u64 + 1);
        }
    }

    /// Notes that the digest of `id` needs part `front` next (waking parts waiting for room).
    fn set_front(&self, id: &BinaryId, front: u64) {
        self.release(|received| received.fronts.insert(id.clone(), front));
    }

    /// Notes that a part of the upload under `prefix` was recorded: in the background, this
    /// replica hashes on over the recorded parts if it holds (or can take) the upload's claim.
    /// `readable`: whether recorded parts can be read back from the store (see [`Running`]).
    pub fn part_stored(
        self: &Arc<Self>,
        pool: &Pool,
        blobs: &Blobs,
        (id, prefix): (&BinaryId, &str),
        readable: bool,
    ) {
        let (this, pool, blobs, id) = (self.clone(), pool.clone(), blobs.clone(), id.clone());
        let prefix = prefix.to_owned();
        tokio::spawn(async move {
            let upload = (&id, prefix.as_str(), readable);
            if let Err(err) = this.advance(&pool, &blobs, upload, store::now).await {
                tracing::debug!(error = %err, %id, "running digest stopped; complete will re-read");
            }
        });
    }

    /// Takes or renews this replica's claim on the digest of `id` at time `now`; a claim it
    /// wrote less than [`CLAIM_RENEW_AFTER`] ago is still its own without a write.
    async fn claim(
        &self,
        pool: &Pool,
        id: &BinaryId,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> sqlx::Result<bool> {
        if self.holds_fresh_claim(id, prefix, now) {
            return Ok(true);
        }
        let stale = chrono::Duration::from_std(CLAIM_STALE_AFTER).unwrap_or(chrono::Duration::MAX);
        let stale_before = now.checked_sub_signed(stale).unwrap_or(now);
        let mut tx = store::begin_write(pool).await?;
        let claimed =
            digest_claims::claim(&mut tx, id, prefix, &self.owner, now, stale_before).await?;
        tx.commit().await?;
        let mut claims = self.claims();
        if claimed {
            claims.insert(id.clone(), (prefix.to_owned(), now));
        } else {
            claims.remove(id);
        }
        Ok(claimed)
    }

    /// Whether this replica wrote its claim on `id` under `prefix` less than
    /// [`CLAIM_RENEW_AFTER`] before `now` (and not in the future: a clock that went back).
    fn holds_fresh_claim(&self, id: &BinaryId, prefix: &str, now: DateTime<Utc>) -> bool {
        let renew = chrono::Duration::from_std(CLAIM_RENEW_AFTER).unwrap_or_default();
        self.claims().get(id).is_some_and(|(claimed, at)| {
            claimed == prefix && *at <= now && now.signed_duration_since(*at) < renew
        })
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashMap<BinaryId, (String, DateTime<Utc>)>> {
        self.claims.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Self::part_stored`], awaited; `clock` is the time claims are taken and renewed at.
    async fn advance(
        &self,
        pool: &Pool,
        blobs: &Blobs,
        (id, prefix, readable): (&BinaryId, &str, bool),
        clock: fn() -> DateTime<Utc>,
    ) -> sqlx::Result<()> {
        if !self.claim(pool, id, prefix, clock()).await? {
            // Another replica hashes this upload: what this one received is of no use.
            self.release(|received| received.forget(id));
            return Ok(());
        }
        let mut running = self.entry(id, prefix, readable).lock_owned().await;
        if running.prefix != prefix {
            // The upload was started over with another file.
            *running = Running::new(prefix, readable);
        }
        let recorded: BTreeMap<u64, String> = {
            let mut conn = pool.acquire().await?;
            binaries::parts(&mut conn, id).await?
        }
        .into_iter()
        .map(|part| (part.number, part.tag))
        .collect();
        running.follow(&recorded);
        self.note_front(id, &running);
        while running
            .hash_next(blobs, &recorded, |number| self.take_kept(id, number))
            .await
        {
            self.note_front(id, &running);
            // Renews the heartbeat; a replica that lost the claim (it stalled) stops.
            if !self.claim(pool, id, prefix, clock()).await? {
                break;
            }
        }
        // (Also when the digest started over: a read failed or a hashed part was replaced.)
        self.note_front(id, &running);
        let hashed = running.hashed.len() as u64;
        self.release(|received| received.forget_hashed(id, hashed));
        Ok(())
    }

    /// The running digest of `id`, locked: waits for a part being hashed right now.
    pub async fn lock(&self, id: &BinaryId) -> Option<OwnedMutexGuard<Running>> {
        let running = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(id).map(|(_, running)| running.clone())
        }?;
        Some(running.lock_owned().await)
    }

    /// SHA-256 (hex) and length of the whole upload of `id` under `prefix` whose recorded
    /// parts have `tags` (all of them, in order), if this replica's running digest and the
    /// parts it still keeps cover every one; `None` otherwise (read the stored bytes then).
    /// Parts the background digest has not reached yet are hashed here from what is kept.
    pub async fn whole(
        &self,
        id: &BinaryId,
        prefix: &str,
        tags: &[String],
    ) -> Option<(String, u64)> {
        let running = self.lock(id).await?;
        let (mut hasher, mut size, done) = running.usable_for(prefix, tags)?;
        for (index, tag) in tags.iter().enumerate().skip(done) {
            let part = self.take_kept(id, index as u64 + 1)?;
            if part.tag != *tag {
                return None;
            }
            for chunk in &part.chunks {
                size += chunk.len() as u64;
                hasher.update(chunk);
            }
        }
        Some((crate::server::hex::hex(&hasher.finalize()), size))
    }

    /// Forgets `id` (its upload is complete).
    pub fn remove(&self, id: &BinaryId) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(id);
        self.forget_upload(id);
    }

    /// Drops what this replica kept and claimed for the upload `id`.
    fn forget_upload(&self, id: &BinaryId) {
        self.release(|received| received.forget(id));
        self.claims().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ReceivedPart;

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

    async fn hash_all(running: &mut Running, blobs: &Blobs, recorded: &BTreeMap<u64, String>) {
        running.follow(recorded);
        while running.hash_next(blobs, recorded, |_| None).await {}
    }

    #[tokio::test]
    async fn parts_recorded_out_of_order_are_hashed_in_order_once_contiguous() {
        let blobs = Blobs::in_memory();
        let mut running = Running::new("p", true);
        let parts: [&[u8]; 3] = [b"first part ", b"second part ", b"third"];
        let mut recorded = BTreeMap::new();
        for (n, bytes) in [(3u64, parts[2]), (2, parts[1])] {
            recorded.insert(n, store(&blobs, "p", n, bytes).await);
            hash_all(&mut running, &blobs, &recorded).await;
        }
        assert_eq!(running.hashed_parts(), 0);
        recorded.insert(1, store(&blobs, "p", 1, parts[0]).await);
        hash_all(&mut running, &blobs, &recorded).await;
        assert_eq!(running.hashed_parts(), 3);
        let all = parts.concat();
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
        let blobs = Blobs::in_memory();
        let mut running = Running::new("p", true);
        let mut recorded = BTreeMap::new();
        for (n, bytes) in [(1u64, b"aaaa"), (2, b"bbbb")] {
            recorded.insert(n, store(&blobs, "p", n, bytes).await);
        }
        hash_all(&mut running, &blobs, &recorded).await;
        recorded.insert(1, store(&blobs, "p", 1, b"AAAA").await);
        hash_all(&mut running, &blobs, &recorded).await;
        assert_eq!(running.hashed_parts(), 2);
        let known = vec![hex(b"AAAA"), hex(b"bbbb")];
        let (hasher, _, _) = running.usable_for("p", &known).expect("agrees");
        assert_eq!(format!("{:x}", hasher.finalize()), hex(b"AAAAbbbb"));
    }

    fn kept(number: u64, tag: &str, bytes: &'static [u8]) -> KeptPart {
        let (a, b) = bytes.split_at(bytes.len() / 2);
        KeptPart {
            number,
            tag: tag.to_owned(),
            chunks: vec![bytes::Bytes::from_static(a), bytes::Bytes::from_static(b)],
        }
    }

    /// Parts this replica received are hashed from memory (the store holds nothing here, so a
    /// read would fail), and only under the tag the database recorded for them.
    #[tokio::test]
    async fn kept_parts_are_hashed_from_memory_under_their_recorded_tag_only() {
        let blobs = Blobs::in_memory();
        let recorded = BTreeMap::from([(1u64, "t1".to_owned()), (2, "t2".to_owned())]);
        let mut running = Running::new("p", true);
        assert!(
            running
                .hash_next(&blobs, &recorded, |n| Some(kept(n, "t1", b"abcd")))
                .await
        );
        assert!(
            running
                .hash_next(&blobs, &recorded, |n| Some(kept(n, "t2", b"efgh")))
                .await
        );
        let (hasher, size, n) = running
            .usable_for("p", &["t1".to_owned(), "t2".to_owned()])
            .expect("agrees");
        assert_eq!((size, n), (8, 2));
        assert_eq!(format!("{:x}", hasher.finalize()), hex(b"abcdefgh"));

        // Kept bytes of another receipt of part 1 are not the recorded part: the store is
        // read instead, which fails here and starts the digest over.
        let mut running = Running::new("p", true);
        assert!(
            !running
                .hash_next(&blobs, &recorded, |n| Some(kept(n, "other", b"abcd")))
                .await
        );
        assert_eq!(running.hashed_parts(), 0);
    }

    /// What a replica keeps is bounded, and forgotten with its upload.
    #[tokio::test]
    async fn kept_parts_stay_within_their_budget_and_go_with_their_upload() {
        let digests = RunningDigests::default();
        let id = BinaryId::generate();
        let big = KeptPart {
            number: 1,
            tag: "t".to_owned(),
            chunks: vec![bytes::Bytes::from(vec![0u8; MAX_RECEIVED_BYTES + 1])],
        };
        digests.keep(&id, big).await;
        assert_eq!(digests.received().bytes, 0, "over the budget: not kept");
        digests.keep(&id, kept(1, "t1", b"abcd")).await;
        digests.keep(&id, kept(2, "t2", b"efgh")).await;
        assert_eq!(digests.received().bytes, 8);
        digests.keep(&id, kept(2, "t2b", b"ij")).await;
        assert_eq!(
            digests.received().bytes,
            6,
            "a part received again replaces the first"
        );
        digests.remove(&id);
        assert_eq!(digests.received().bytes, 0);
        assert!(digests.received().parts.is_empty());
    }

    /// While this replica's digest of an upload is behind, a part over the budget waits for
    /// it to free room instead of going unkept, the part the digest needs next is kept over
    /// the budget (nothing waits on the parts after it), and a wait ends after [`KEEP_WAIT`].
    #[tokio::test(start_paused = true)]
    async fn a_part_over_the_budget_waits_for_the_digest_it_is_behind() {
        let digests = Arc::new(RunningDigests::default());
        let id = BinaryId::generate();
        let full = KeptPart {
            number: 2,
            tag: "t2".to_owned(),
            chunks: vec![bytes::Bytes::from(vec![0u8; MAX_RECEIVED_BYTES])],
        };
        digests.set_front(&id, 1);
        digests.keep(&id, full).await;
        assert_eq!(digests.received().bytes, MAX_RECEIVED_BYTES);

        let waiting = tokio::spawn({
            let (digests, id) = (digests.clone(), id.clone());
            async move { digests.keep(&id, kept(3, "t3", b"cccc")).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "part 3 waits for room");
        digests.keep(&id, kept(1, "t1", b"aaaa")).await;
        assert!(
            digests.received().parts.contains_key(&(id.clone(), 1)),
            "the part the digest needs next is kept over the budget"
        );
        // The digest hashes parts 1 and 2 from memory: room for part 3.
        assert!(digests.take_kept(&id, 1).is_some());
        digests.set_front(&id, 2);
        assert!(digests.take_kept(&id, 2).is_some());
        digests.set_front(&id, 3);
        waiting.await.expect("part 3");
        assert!(digests.received().parts.contains_key(&(id.clone(), 3)));

        // Nothing frees room: a part waits KEEP_WAIT, then goes unkept.
        let full = KeptPart {
            number: 4,
            tag: "t4".to_owned(),
            chunks: vec![bytes::Bytes::from(vec![0u8; MAX_RECEIVED_BYTES - 4])],
        };
        digests.keep(&id, full).await;
        let started = tokio::time::Instant::now();
        digests.keep(&id, kept(5, "t5", b"eeee")).await;
        assert_eq!(started.elapsed(), KEEP_WAIT);
        assert!(!digests.received().parts.contains_key(&(id.clone(), 5)));

        // A digest that cannot read parts back (a multipart upload) is waited for by nothing.
        let multipart = BinaryId::generate();
        digests.note_front(&multipart, &Running::new("m", false));
        let started = tokio::time::Instant::now();
        digests.keep(&multipart, kept(2, "m2", b"mmmm")).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(!digests.received().parts.contains_key(&(multipart, 2)));
        digests.note_front(&id, &Running::new("p", true));
        assert_eq!(digests.received().fronts.get(&id), Some(&1));

        // An upload whose digest does not run here does not wait.
        let other = BinaryId::generate();
        let started = tokio::time::Instant::now();
        digests.keep(&other, kept(2, "o2", b"oooo")).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(!digests.received().parts.contains_key(&(other, 2)));
    }

    /// A part kept after the running digest already hashed its number (from the store) is
    /// dropped by the next advance instead of holding the budget until the upload ends.
    #[tokio::test]
    async fn a_part_kept_after_its_turn_is_dropped_by_the_next_advance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pool, id) = database(dir.path()).await;
        let blobs = Blobs::in_memory();
        let digests = RunningDigests::default();
        record(&pool, &blobs, &id, 1, b"aaaa").await;
        digests
            .advance(&pool, &blobs, (&id, "p", true), store::now)
            .await
            .expect("advance");
        assert_eq!(hashed(&digests, &id).await, Some(1));
        digests.keep(&id, kept(1, &hex(b"aaaa"), b"aaaa")).await;
        digests.keep(&id, kept(3, "t3", b"cccc")).await;
        assert_eq!(digests.received().bytes, 8);
        record(&pool, &blobs, &id, 2, b"bbbb").await;
        digests
            .advance(&pool, &blobs, (&id, "p", true), store::now)
            .await
            .expect("advance");
        assert_eq!(hashed(&digests, &id).await, Some(2));
        {
            let received = digests.received();
            assert_eq!(received.bytes, 4, "part 1 is dropped, part 3 waits");
            assert!(received.parts.contains_key(&(id.clone(), 3)));
        }
        pool.close().await;
    }

    /// Parts of a multipart upload cannot be read back before it is assembled: the digest
    /// hashes what this replica kept, waits (keeping its state) at a part it did not keep, and
    /// `whole` finishes from parts kept since, or gives up when one is neither hashed nor kept.
    #[tokio::test]
    async fn an_unreadable_upload_is_hashed_from_kept_parts_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pool, id) = database(dir.path()).await;
        let blobs = Blobs::in_memory();
        let digests = RunningDigests::default();
        let tags = [hex(b"aaaa"), hex(b"bbbb"), hex(b"cccc")];
        digests.keep(&id, kept(1, &tags[0], b"aaaa")).await;
        // The store holds every part here, so a digest that read it would hash all three.
        for (n, bytes) in [(1, b"aaaa"), (2, b"bbbb"), (3, b"cccc")] {
            record(&pool, &blobs, &id, n, bytes).await;
        }
        digests
            .advance(&pool, &blobs, (&id, "p", false), store::now)
            .await
            .expect("advance");
        assert_eq!(hashed(&digests, &id).await, Some(1), "part 2 was not kept");

        digests.keep(&id, kept(2, &tags[1], b"bbbb")).await;
        assert_eq!(
            digests.whole(&id, "p", &tags).await,
            None,
            "part 3 is missing"
        );
        digests.keep(&id, kept(2, &tags[1], b"bbbb")).await;
        digests.keep(&id, kept(3, "another receipt", b"cccc")).await;
        assert_eq!(
            digests.whole(&id, "p", &tags).await,
            None,
            "part 3's tag differs"
        );
        digests.keep(&id, kept(2, &tags[1], b"bbbb")).await;
        digests.keep(&id, kept(3, &tags[2], b"cccc")).await;
        assert_eq!(
            digests.whole(&id, "p", &tags).await,
            Some((hex(b"aaaabbbbcccc"), 12))
        );
        assert_eq!(digests.whole(&id, "other-prefix", &tags).await, None);
        pool.close().await;
    }

    #[tokio::test]
    async fn a_missing_part_object_drops_the_running_digest() {
        let blobs = Blobs::in_memory();
        let mut running = Running::new("p", true);
        let recorded = BTreeMap::from([(1u64, hex(b"never stored"))]);
        hash_all(&mut running, &blobs, &recorded).await;
        assert_eq!(running.hashed_parts(), 0);
        assert!(running.usable_for("p", &[hex(b"never stored")]).is_some());
    }

    /// A database with one uploading binary (ID and prefix), its parts under `prefix`.
    async fn database(dir: &std::path::Path) -> (Pool, BinaryId) {
        let pool = store::open(&dir.join("fleet.db")).await.expect("open");
        let id = BinaryId::generate();
        let now = store::now();
        let mut tx = store::begin_write(&pool).await.expect("begin");
        for sql in [
            "INSERT INTO organizations (id, name, created_at) VALUES ('org_1', 'o', $1)",
            "INSERT INTO products (id, org_id, name, created_at, updated_at) \
             VALUES ('prd_1', 'org_1', 'p', $1, $1)",
            "INSERT INTO artifacts (id, org_id, product_id, name, created_at) \
             VALUES ('art_1', 'org_1', 'prd_1', 'app', $1)",
            "INSERT INTO artifact_versions (id, org_id, product_id, artifact_id, version, \
             created_at) VALUES ('ver_1', 'org_1', 'prd_1', 'art_1', '1.0', $1)",
        ] {
            store::query(sql)
                .bind(now)
                .execute(&mut tx)
                .await
                .expect(sql);
        }
        store::query(
            "INSERT INTO binaries (id, org_id, product_id, artifact_id, version_id, target, \
             size, sha256, part_size, state, blob_prefix, created_at) VALUES ($1, 'org_1', \
             'prd_1', 'art_1', 'ver_1', 'armv7', 12, 'x', 4, 'uploading', 'p', $2)",
        )
        .bind(id.as_str())
        .bind(now)
        .execute(&mut tx)
        .await
        .expect("binary");
        tx.commit().await.expect("commit");
        (pool, id)
    }

    async fn record(pool: &Pool, blobs: &Blobs, id: &BinaryId, number: u64, bytes: &[u8]) {
        let sha256 = store(blobs, "p", number, bytes).await;
        let part = ReceivedPart {
            number,
            size: bytes.len() as u64,
            sha256: Some(sha256.clone()),
            crc32c: None,
            tag: sha256,
        };
        let mut tx = store::begin_write(pool).await.expect("begin");
        binaries::record_part(&mut tx, id, &part, None, store::now())
            .await
            .expect("record");
        tx.commit().await.expect("commit");
    }

    async fn hashed(digests: &RunningDigests, id: &BinaryId) -> Option<usize> {
        Some(digests.lock(id).await?.hashed_parts())
    }

    #[tokio::test]
    async fn only_the_claim_holder_hashes_until_its_heartbeat_goes_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pool, id) = database(dir.path()).await;
        let blobs = Blobs::in_memory();
        let (a, b) = (RunningDigests::default(), RunningDigests::default());
        record(&pool, &blobs, &id, 1, b"aaaa").await;
        record(&pool, &blobs, &id, 2, b"bbbb").await; // as if received by replica B
        a.advance(&pool, &blobs, (&id, "p", true), store::now)
            .await
            .expect("a");
        assert_eq!(
            hashed(&a, &id).await,
            Some(2),
            "A hashes parts it did not receive"
        );
        b.advance(&pool, &blobs, (&id, "p", true), store::now)
            .await
            .expect("b");
        assert_eq!(hashed(&b, &id).await, None, "B leaves A's upload alone");

        // Ten minutes later A has not renewed its claim (it died): B takes over.
        let later = || store::now() + chrono::Duration::minutes(10);
        record(&pool, &blobs, &id, 3, b"cccc").await;
        b.advance(&pool, &blobs, (&id, "p", true), later)
            .await
            .expect("b");
        assert_eq!(hashed(&b, &id).await, Some(3));
        let known = [hex(b"aaaa"), hex(b"bbbb"), hex(b"cccc")];
        let running = b.lock(&id).await.expect("entry");
        let (hasher, size, _) = running.usable_for("p", &known).expect("agrees");
        assert_eq!(
            (format!("{:x}", hasher.finalize()), size),
            (hex(b"aaaabbbbcccc"), 12)
        );
        drop(running);
        // A comes back after those ten minutes: its claim is gone, whatever it remembers.
        a.advance(&pool, &blobs, (&id, "p", true), later)
            .await
            .expect("a");
        assert_eq!(hashed(&a, &id).await, Some(2), "A lost the claim to B");
        pool.close().await;
    }

    async fn heartbeat(pool: &Pool, id: &BinaryId) -> (String, DateTime<Utc>) {
        let mut conn = pool.acquire().await.expect("conn");
        store::query("SELECT owner, heartbeat_at FROM binary_digest_claims WHERE binary_id = $1")
            .bind(id.as_str())
            .fetch_one(&mut conn)
            .await
            .expect("claim row")
    }

    /// The holder writes its claim again only once the renewal is due, not for every part, and
    /// a replica that remembers a claim another took over (after it went stale) does not keep
    /// hashing on that memory.
    #[tokio::test]
    async fn a_claim_is_written_again_only_when_its_renewal_is_due() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pool, id) = database(dir.path()).await;
        let (a, b) = (RunningDigests::default(), RunningDigests::default());
        let t0 = store::now();
        let at = |secs: i64| t0 + chrono::Duration::seconds(secs);
        assert!(a.claim(&pool, &id, "p", t0).await.expect("claim"));
        assert_eq!(heartbeat(&pool, &id).await, (a.owner.clone(), t0));
        assert!(a.claim(&pool, &id, "p", at(5)).await.expect("renew"));
        assert_eq!(
            heartbeat(&pool, &id).await.1,
            t0,
            "renewed 5 s after: not written"
        );
        assert!(!b.claim(&pool, &id, "p", at(6)).await.expect("b"));
        assert!(a.claim(&pool, &id, "p", at(20)).await.expect("renew"));
        assert_eq!(
            heartbeat(&pool, &id).await.1,
            at(20),
            "due after 15 s: written"
        );
        assert!(
            a.claim(&pool, &id, "q", at(21))
                .await
                .expect("other prefix"),
            "an upload started over is claimed in the database"
        );
        assert_eq!(heartbeat(&pool, &id).await.1, at(21));

        // A stalls; after its heartbeat went stale B takes the claim, and A, back, learns it.
        assert!(b.claim(&pool, &id, "q", at(200)).await.expect("b takes"));
        assert!(!a.claim(&pool, &id, "q", at(201)).await.expect("a back"));
        assert_eq!(heartbeat(&pool, &id).await, (b.owner.clone(), at(200)));
        pool.close().await;
    }
}
