//! A bounded cache of what a key operation learns from a version's sealed records, so that an
//! operation neither parses its key (`PrivateKey::from_storage`: PKCS#8 parsing and, for RSA, the
//! key's checks and three library key objects) nor opens and parses its metadata (an AES-GCM open
//! and the public JWK's JSON) on every request: the parsed private key and the uses the metadata's
//! `key_ops` allow ([`Permitted`]).
//!
//! Keyed by vault, canonical key name and version id, and bound to the exact records it was made
//! from: an entry keeps the version's sealed key and sealed metadata and the clear attributes the
//! metadata's associated data binds (`created`, `updated`, `enabled`, `nbf`, `exp`), and serves a
//! record only when all of them are byte for byte the same. Opening the same sealed bytes under
//! the same associated data gives the same result, so a hit is exactly what opening would have
//! found; any change by a database writer (a swapped key, re-enabled version, altered metadata)
//! misses and is opened, and refused, as if nothing were cached. Only facts about the records are
//! cached, never a decision: the caller checks every rule of use (enabled, `key_ops`, `nbf`/`exp`,
//! the proof) on every operation, and makes an entry only after those checks pass.
//!
//! Bounded by entries ([`MAX_ENTRIES`]) and by an estimate of the memory they hold ([`MAX_BYTES`]);
//! the least recently used entry goes first. A name's entries are dropped when it is deleted,
//! purged or restored, so its key material does not stay in memory after the key is gone. A
//! dropped key is freed by aws-lc, whose `OPENSSL_free` overwrites every block before it frees it
//! (`crypto/mem.c`), and `oct` keys are zeroizing vectors; the sealed copies are ciphertext.
//! `Debug` shows counts only.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use arca_crypto::keys::{KeyType, PrivateKey};
use arca_store::VersionRecord;

/// The most versions held at once.
pub(crate) const MAX_ENTRIES: usize = 1024;
/// The most memory (estimated by [`cost`]) the entries may hold.
pub(crate) const MAX_BYTES: usize = 8 << 20;

/// The uses a version's `key_ops` allow, one bit per use (the caller assigns the bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Permitted(pub(crate) u8);

/// What a hit gives: the parsed key and the uses its version's metadata allows.
pub(crate) struct Cached {
    pub(crate) key: Arc<PrivateKey>,
    pub(crate) permitted: Permitted,
}

/// The version an entry was made from (its place, id, clear attributes and sealed bytes),
/// compared whole on every lookup.
struct Source {
    vault: String,
    name: String,
    record: VersionRecord,
}

impl Source {
    fn names(&self, vault: &str, name: &str, version: &str) -> bool {
        self.record.version == version && self.vault == vault && self.name == name
    }
}

struct Entry {
    source: Source,
    key: Arc<PrivateKey>,
    permitted: Permitted,
    bytes: usize,
    /// The cache's use counter when the entry was last used: the smallest goes first.
    used: u64,
}

/// The entries by the hash of their vault, name and version (looked up without building an
/// owned key); a bucket holds every entry of that hash, almost always one.
#[derive(Default)]
struct Inner {
    buckets: HashMap<u64, Vec<Entry>>,
    hasher: RandomState,
    len: usize,
    bytes: usize,
    uses: u64,
}

impl Inner {
    fn slot(&self, vault: &str, name: &str, version: &str) -> u64 {
        self.hasher.hash_one((vault, name, version))
    }

    fn remove_where(&mut self, mut gone: impl FnMut(&Entry) -> bool) {
        let (mut len, mut bytes) = (0, 0);
        self.buckets.retain(|_, bucket| {
            bucket.retain(|entry| {
                let keep = !gone(entry);
                if keep {
                    len += 1;
                    bytes += entry.bytes;
                }
                keep
            });
            !bucket.is_empty()
        });
        (self.len, self.bytes) = (len, bytes);
    }

    /// Removes the least recently used entry.
    fn evict_one(&mut self) {
        let oldest = self.buckets.values().flatten().map(|e| e.used).min();
        if let Some(oldest) = oldest {
            self.remove_where(|e| e.used == oldest);
        }
    }
}

/// The key cache of one engine.
#[derive(Default)]
pub(crate) struct KeyCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("KeyCache")
            .field("entries", &inner.len)
            .field("bytes", &inner.bytes)
            .finish()
    }
}

/// An estimate of the memory an entry holds: the sealed copies, and for RSA three library key
/// objects (signing, PKCS#1 and OAEP decryption), each with the modulus, the private exponent,
/// the CRT values and Montgomery contexts; a few hundred bytes for EC and `oct`.
fn cost(key: &PrivateKey, record: &VersionRecord) -> usize {
    const OVERHEAD: usize = 512;
    let sealed = record.meta.len() + record.value.len();
    OVERHEAD
        + sealed
        + match key.key_type() {
            KeyType::Rsa => 3 * 8 * key.size_bits().unwrap_or(4096) / 8,
            KeyType::Ec | KeyType::Oct => 0,
        }
}

impl KeyCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave the map inconsistent for a reader: every
        // change below is a single insert or remove.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached key and permitted uses of `record`, version of `vault`/`name`, if an entry was
    /// made from exactly this record.
    pub(crate) fn get(&self, vault: &str, name: &str, record: &VersionRecord) -> Option<Cached> {
        let mut inner = self.lock();
        let slot = inner.slot(vault, name, &record.version);
        inner.uses += 1;
        let uses = inner.uses;
        let entry = inner
            .buckets
            .get_mut(&slot)?
            .iter_mut()
            .find(|e| e.source.names(vault, name, &record.version))?;
        if entry.source.record != *record {
            return None;
        }
        entry.used = uses;
        Some(Cached {
            key: entry.key.clone(),
            permitted: entry.permitted,
        })
    }

    /// Caches `key` and `permitted` as what `record` of `vault`/`name` holds; call it only with
    /// what was opened from `record` itself. Replaces an entry made from an earlier state of the
    /// version.
    pub(crate) fn insert(
        &self,
        vault: &str,
        name: &str,
        record: &VersionRecord,
        permitted: Permitted,
        key: Arc<PrivateKey>,
    ) {
        let bytes = cost(&key, record);
        if bytes > MAX_BYTES {
            return;
        }
        let source = Source {
            vault: vault.to_owned(),
            name: name.to_owned(),
            record: record.clone(),
        };
        let mut inner = self.lock();
        let slot = inner.slot(vault, name, &record.version);
        inner.remove_where(|e| e.source.names(vault, name, &record.version));
        while inner.len > 0 && (inner.len >= MAX_ENTRIES || inner.bytes + bytes > MAX_BYTES) {
            inner.evict_one();
        }
        inner.uses += 1;
        let used = inner.uses;
        inner.len += 1;
        inner.bytes += bytes;
        inner.buckets.entry(slot).or_default().push(Entry {
            source,
            key,
            permitted,
            bytes,
            used,
        });
    }

    /// Drops every version of `vault`/`name` (delete, purge, restore). A key still in use by an
    /// operation lives until that operation ends.
    pub(crate) fn forget(&self, vault: &str, name: &str) {
        self.lock()
            .remove_where(|e| e.source.vault == vault && e.source.name == name);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arca_crypto::keys::Curve;

    fn ec() -> Arc<PrivateKey> {
        Arc::new(PrivateKey::generate_ec(Curve::P256).expect("generate"))
    }

    fn record(version: &str) -> VersionRecord {
        VersionRecord {
            version: version.into(),
            created: 100,
            updated: 100,
            enabled: true,
            nbf: None,
            exp: None,
            meta: vec![1; 300],
            value: vec![2; 150],
        }
    }

    /// Looks `name`/`version` up, caching a fresh EC key on a miss; whether it missed.
    fn use_key(cache: &KeyCache, name: &str, version: &str) -> (Arc<PrivateKey>, bool) {
        let record = record(version);
        if let Some(hit) = cache.get("v", name, &record) {
            return (hit.key, false);
        }
        let key = ec();
        cache.insert("v", name, &record, Permitted(1), key.clone());
        (key, true)
    }

    #[test]
    fn a_second_use_is_a_hit() {
        let cache = KeyCache::default();
        let (first, missed_first) = use_key(&cache, "k", "1");
        let (second, missed_second) = use_key(&cache, "k", "1");
        assert!(missed_first);
        assert!(!missed_second);
        assert!(Arc::ptr_eq(&first, &second));
        let hit = cache.get("v", "k", &record("1")).expect("hit");
        assert_eq!(hit.permitted, Permitted(1));
        let (_, other_version) = use_key(&cache, "k", "2");
        assert!(other_version, "another version is another entry");
        assert!(cache.get("w", "k", &record("1")).is_none(), "another vault");
    }

    #[test]
    fn any_change_to_the_records_misses() {
        let cache = KeyCache::default();
        use_key(&cache, "k", "1");
        let changes: [fn(&mut VersionRecord); 8] = [
            |r| r.meta[299] ^= 1,
            |r| r.meta.push(0),
            |r| r.value[0] ^= 1,
            |r| r.enabled = false,
            |r| r.nbf = Some(1),
            |r| r.exp = Some(1),
            |r| r.created += 1,
            |r| r.updated += 1,
        ];
        for change in changes {
            let mut changed = record("1");
            change(&mut changed);
            assert!(cache.get("v", "k", &changed).is_none());
        }
        assert!(cache.get("v", "k", &record("1")).is_some(), "still there");
        // An entry made from the changed record replaces the old one.
        let mut updated = record("1");
        updated.updated += 1;
        cache.insert("v", "k", &updated, Permitted(2), ec());
        assert_eq!(cache.len(), 1);
        assert!(cache.get("v", "k", &record("1")).is_none());
        let hit = cache.get("v", "k", &updated).expect("hit");
        assert_eq!(hit.permitted, Permitted(2));
    }

    #[test]
    fn entries_are_bounded_and_the_least_recently_used_goes_first() {
        let cache = KeyCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            use_key(&cache, &format!("k{i}"), "1");
            // Keep k0 in use.
            use_key(&cache, "k0", "1");
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(!use_key(&cache, "k0", "1").1, "the key in use stays");
        assert!(use_key(&cache, "k1", "1").1, "the oldest went first");
    }

    #[test]
    fn memory_is_bounded() {
        let cache = KeyCache::default();
        let rsa = Arc::new(PrivateKey::generate_rsa(4096).expect("generate"));
        let each = cost(&rsa, &record("1"));
        let room = MAX_BYTES / each;
        assert!(room < MAX_ENTRIES, "the memory bound is the one reached");
        for i in 0..room + 5 {
            cache.insert(
                "v",
                &format!("r{i}"),
                &record("1"),
                Permitted(1),
                rsa.clone(),
            );
        }
        assert_eq!(cache.len(), room);
        assert!(cache.bytes() <= MAX_BYTES);
    }

    #[test]
    fn forgetting_a_name_drops_all_its_versions_only() {
        let cache = KeyCache::default();
        use_key(&cache, "k", "1");
        use_key(&cache, "k", "2");
        use_key(&cache, "other", "1");
        cache.insert("w", "k", &record("1"), Permitted(1), ec());
        let before = cache.bytes();
        cache.forget("v", "k");
        assert_eq!(cache.len(), 2);
        assert!(cache.bytes() < before);
        assert!(use_key(&cache, "k", "1").1);
        assert!(!use_key(&cache, "other", "1").1);
        assert!(cache.get("w", "k", &record("1")).is_some());
    }

    #[test]
    fn debug_shows_counts_only() {
        let cache = KeyCache::default();
        use_key(&cache, "secret-name", "1");
        let text = format!("{cache:?}");
        assert!(text.contains("entries: 1"));
        assert!(!text.contains("secret-name"));
    }
}
