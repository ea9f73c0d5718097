//! The in-process cache of API keys that spares each authenticated request its key query, and
//! the `auth-epoch` file in the data dir that tells every replica when cached keys went stale.
//!
//! Why a cached key is never trusted after it stops being valid:
//! - **Expiry** needs no invalidation: the cached `expires_at` is compared with the clock on
//!   every request, exactly as the database row would be.
//! - **Revocation** commits its transaction, then appends one byte to `<data dir>/auth-epoch`
//!   ([`KeyCache::keys_changed`]), and only then answers. Every request first `stat`s that file
//!   (one system call, no database round trip) and drops the whole cache when its fingerprint
//!   (inode, length, mtime) differs from the one the cache was filled under. The length grows
//!   with every bump, so two bumps within one mtime tick are still told apart. An entry is
//!   tagged with the fingerprint read *before* its query and is refused if the epoch moved
//!   meanwhile, so a row read just before a revocation committed is never used after the bump.
//! - **Every replica**: replicas that share a SQLite database share a host and its file system
//!   (WAL needs shared memory, so network file systems are out), hence they all see the same
//!   file, and a revocation made through any of them — or offline — reaches all of them on their
//!   next request. A PostgreSQL backend would replace the file with LISTEN/NOTIFY or a one-row
//!   epoch read.
//! - **Scope** only ever narrows without a bump, when a product is deleted (its
//!   `api_key_products` rows cascade); product IDs are never reused, so a cached scope naming a
//!   deleted product grants nothing. Role, name and scope are not editable through the API.
//! - **New keys** need no bump: unknown keys are never cached, so a key created anywhere
//!   (online or offline) works on its next request.
//! - **Failures** fail safe: while the file cannot be read, the cache is bypassed and every
//!   request queries the database; when a bump cannot be written, the file is removed (forcing
//!   that bypass on every replica) and the error logged. Entries also expire after [`TTL`], which
//!   bounds how long a hand edit of `api_keys` made without a bump can go unseen.
//!
//! The `stat` is a blocking call made on the async worker: it touches no disk (the inode is
//! cached) and costs about a microsecond, far less than handing it to a blocking thread.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

use super::auth::Principal;

/// File name of the epoch file inside the data dir.
pub const EPOCH_FILE: &str = "auth-epoch";
/// How long a cached key is trusted without a query, epoch unchanged.
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

/// The epoch file as one request saw it; `None` when it could not be read (cache bypassed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(Option<Fingerprint>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

pub struct KeyCache {
    epoch_file: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The epoch every entry was loaded under.
    epoch: Option<Fingerprint>,
    entries: HashMap<[u8; 32], Entry>,
}

struct Entry {
    key: Arc<CachedKey>,
    loaded: Instant,
}

impl KeyCache {
    /// A cache watching `<data_dir>/auth-epoch`, which is created when missing.
    pub fn open(data_dir: &Path) -> std::io::Result<KeyCache> {
        let epoch_file = data_dir.join(EPOCH_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&epoch_file)?;
        Ok(KeyCache {
            epoch_file,
            inner: Mutex::default(),
        })
    }

    /// The current epoch (read fresh from the file system every call).
    pub fn epoch(&self) -> Epoch {
        Epoch(fingerprint(&self.epoch_file))
    }

    /// The cached key whose SHA-256 is `hash`, if still trusted under `epoch` at `now`.
    pub fn get(&self, hash: &[u8; 32], epoch: Epoch, now: Instant) -> Option<Arc<CachedKey>> {
        let fingerprint = epoch.0?;
        let mut inner = self.lock();
        if inner.epoch != Some(fingerprint) {
            inner.entries.clear();
            inner.epoch = Some(fingerprint);
            return None;
        }
        let entry = inner.entries.get(hash)?;
        (now.duration_since(entry.loaded) < TTL).then(|| Arc::clone(&entry.key))
    }

    /// Caches `key`, read from the database after `epoch` was taken, unless the epoch has
    /// moved since (the row may predate a revocation).
    pub fn insert(&self, hash: [u8; 32], key: Arc<CachedKey>, epoch: Epoch, now: Instant) {
        let Some(fingerprint) = epoch.0 else {
            return;
        };
        let mut inner = self.lock();
        if inner.epoch != Some(fingerprint) {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(hash, Entry { key, loaded: now });
    }

    /// Call after committing any change that makes a key less valid (revocation): every
    /// replica on this data dir drops its cached keys before its next request.
    pub fn keys_changed(&self) {
        if let Err(err) = bump(&self.epoch_file) {
            tracing::error!(error = %err, file = %self.epoch_file.display(),
                "could not bump the API key epoch; removing it so every replica stops caching keys");
            if let Err(err) = std::fs::remove_file(&self.epoch_file) {
                tracing::error!(error = %err, "could not remove the API key epoch file either; \
                    other replicas may accept a revoked key for up to 10 s");
            }
        }
        self.lock().entries.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Marks every cached API key on every replica of the data dir stale (see the module docs):
/// for tools that change `api_keys` straight in the database.
pub fn bump_epoch(data_dir: &Path) -> std::io::Result<()> {
    bump(&data_dir.join(EPOCH_FILE))
}

fn bump(file: &Path) -> std::io::Result<()> {
    // O_APPEND: concurrent bumps from several processes each add their byte.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?
        .write_all(b".")
}

fn fingerprint(file: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(file).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Fingerprint {
        inode,
        len: meta.len(),
        modified: meta.modified().ok(),
    })
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
    fn a_bump_from_another_cache_on_the_same_dir_drops_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (
            KeyCache::open(dir.path()).expect("a"),
            KeyCache::open(dir.path()).expect("b"),
        );
        let now = Instant::now();
        let epoch = a.epoch();
        assert_eq!(a.get(&[1; 32], epoch, now).map(|_| ()), None);
        a.insert([1; 32], key("one"), epoch, now);
        assert!(a.get(&[1; 32], a.epoch(), now).is_some());
        b.keys_changed();
        assert!(
            a.get(&[1; 32], a.epoch(), now).is_none(),
            "stale after b's bump"
        );
    }

    #[test]
    fn rows_read_under_an_old_epoch_are_not_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = KeyCache::open(dir.path()).expect("cache");
        let now = Instant::now();
        let before = cache.epoch();
        assert!(cache.get(&[2; 32], before, now).is_none());
        bump_epoch(dir.path()).expect("bump");
        // Another request sees the new epoch first, then the slow one tries to insert.
        assert!(cache.get(&[3; 32], cache.epoch(), now).is_none());
        cache.insert([2; 32], key("two"), before, now);
        assert!(cache.get(&[2; 32], cache.epoch(), now).is_none());
    }

    #[test]
    fn entries_expire_and_a_missing_epoch_file_bypasses_the_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = KeyCache::open(dir.path()).expect("cache");
        let now = Instant::now();
        let epoch = cache.epoch();
        assert!(cache.get(&[4; 32], epoch, now).is_none());
        cache.insert([4; 32], key("four"), epoch, now);
        assert!(cache.get(&[4; 32], epoch, now + TTL / 2).is_some());
        assert!(cache.get(&[4; 32], epoch, now + TTL).is_none());
        std::fs::remove_file(dir.path().join(EPOCH_FILE)).expect("remove");
        let gone = cache.epoch();
        assert_eq!(gone, Epoch(None));
        cache.insert([5; 32], key("five"), gone, now);
        assert!(cache.get(&[5; 32], gone, now).is_none());
    }
}
