//! A bounded cache of parsed private keys, so that a key operation does not parse its key
//! (`PrivateKey::from_storage`: PKCS#8 parsing and, for RSA, the key's checks and three
//! library key objects) on every request.
//!
//! Keyed by vault, canonical key name and version id: a version's key material never changes
//! once written, so an entry can never be wrong for its key, only linger. Only the parsed private
//! key is cached: the caller still opens the version's record and checks every rule of use
//! (enabled, `key_ops`, `nbf`/`exp`, the proof) against it on every operation, and asks the
//! cache only after those checks pass. Bounded by entries ([`MAX_ENTRIES`]) and by an estimate
//! of the memory the parsed keys hold ([`MAX_BYTES`]); the least recently used entry goes first.
//! A name's entries are dropped when it is deleted, purged or restored, so its key material does
//! not stay in memory after the key is gone. A dropped key is freed by aws-lc, whose
//! `OPENSSL_free` overwrites every block before it frees it (`crypto/mem.c`), and `oct` keys are
//! zeroizing vectors. `Debug` shows counts only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use arca_crypto::keys::{KeyType, PrivateKey};

/// The most parsed keys held at once.
pub(crate) const MAX_ENTRIES: usize = 1024;
/// The most memory (estimated by [`cost`]) the parsed keys may hold.
pub(crate) const MAX_BYTES: usize = 8 << 20;

/// What identifies a cached key: vault, canonical (lower-case) key name, version id.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Slot {
    vault: String,
    name: String,
    version: String,
}

struct Entry {
    key: Arc<PrivateKey>,
    bytes: usize,
    /// The cache's use counter when the entry was last used: the smallest goes first.
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Slot, Entry>,
    bytes: usize,
    uses: u64,
}

/// The parsed-key cache of one engine.
#[derive(Default)]
pub(crate) struct KeyCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("KeyCache")
            .field("entries", &inner.entries.len())
            .field("bytes", &inner.bytes)
            .finish()
    }
}

/// An estimate of the memory a parsed key holds: for RSA, three library key objects (signing,
/// PKCS#1 and OAEP decryption), each with the modulus, the private exponent, the CRT values and
/// Montgomery contexts; a few hundred bytes for EC and `oct`.
fn cost(key: &PrivateKey) -> usize {
    const OVERHEAD: usize = 512;
    match key.key_type() {
        KeyType::Rsa => OVERHEAD + 3 * 8 * key.size_bits().unwrap_or(4096) / 8,
        KeyType::Ec | KeyType::Oct => OVERHEAD,
    }
}

impl KeyCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave the map inconsistent for a reader: every
        // change below is a single insert or remove.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The parsed key of `vault`/`name`/`version`: the cached one, or `parse()`'s, which is then
    /// cached. `parse` runs outside the lock; two misses at once may both parse.
    pub(crate) fn get_or_parse<E>(
        &self,
        vault: &str,
        name: &str,
        version: &str,
        parse: impl FnOnce() -> Result<PrivateKey, E>,
    ) -> Result<Arc<PrivateKey>, E> {
        let slot = Slot {
            vault: vault.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
        };
        {
            let mut inner = self.lock();
            inner.uses += 1;
            let uses = inner.uses;
            if let Some(entry) = inner.entries.get_mut(&slot) {
                entry.used = uses;
                return Ok(entry.key.clone());
            }
        }
        let key = Arc::new(parse()?);
        self.insert(slot, key.clone());
        Ok(key)
    }

    fn insert(&self, slot: Slot, key: Arc<PrivateKey>) {
        let bytes = cost(&key);
        if bytes > MAX_BYTES {
            return;
        }
        let mut inner = self.lock();
        inner.uses += 1;
        let used = inner.uses;
        if let Some(old) = inner.entries.remove(&slot) {
            inner.bytes -= old.bytes;
        }
        while inner.entries.len() >= MAX_ENTRIES || inner.bytes + bytes > MAX_BYTES {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(s, _)| s.clone())
            else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.bytes;
            }
        }
        inner.bytes += bytes;
        inner.entries.insert(slot, Entry { key, bytes, used });
    }

    /// Drops every version of `vault`/`name` (delete, purge, restore). A key still in use by an
    /// operation lives until that operation ends.
    pub(crate) fn forget(&self, vault: &str, name: &str) {
        let mut inner = self.lock();
        let mut freed = 0;
        inner.entries.retain(|slot, entry| {
            let keep = slot.vault != vault || slot.name != name;
            if !keep {
                freed += entry.bytes;
            }
            keep
        });
        inner.bytes -= freed;
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
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

    fn ec() -> PrivateKey {
        PrivateKey::generate_ec(Curve::P256).expect("generate")
    }

    fn parsed(cache: &KeyCache, name: &str, version: &str) -> (Arc<PrivateKey>, bool) {
        let mut parsed = false;
        let key = cache
            .get_or_parse::<()>("v", name, version, || {
                parsed = true;
                Ok(ec())
            })
            .expect("parse");
        (key, parsed)
    }

    #[test]
    fn a_second_use_is_a_hit() {
        let cache = KeyCache::default();
        let (first, parsed_first) = parsed(&cache, "k", "1");
        let (second, parsed_second) = parsed(&cache, "k", "1");
        assert!(parsed_first);
        assert!(!parsed_second);
        assert!(Arc::ptr_eq(&first, &second));
        let (_, other_version) = parsed(&cache, "k", "2");
        assert!(other_version, "another version is another entry");
    }

    #[test]
    fn a_failed_parse_caches_nothing() {
        let cache = KeyCache::default();
        let failed = cache.get_or_parse("v", "k", "1", || Err::<PrivateKey, _>("bad"));
        assert!(failed.is_err());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn entries_are_bounded_and_the_least_recently_used_goes_first() {
        let cache = KeyCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            parsed(&cache, &format!("k{i}"), "1");
            // Keep k0 in use.
            parsed(&cache, "k0", "1");
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(!parsed(&cache, "k0", "1").1, "the key in use stays");
        assert!(parsed(&cache, "k1", "1").1, "the oldest went first");
    }

    #[test]
    fn memory_is_bounded() {
        let cache = KeyCache::default();
        let rsa = Arc::new(PrivateKey::generate_rsa(4096).expect("generate"));
        let each = cost(&rsa);
        let room = MAX_BYTES / each;
        assert!(room < MAX_ENTRIES, "the memory bound is the one reached");
        for i in 0..room + 5 {
            cache.insert(
                Slot {
                    vault: "v".into(),
                    name: format!("r{i}"),
                    version: "1".into(),
                },
                rsa.clone(),
            );
        }
        assert_eq!(cache.len(), room);
        assert!(cache.bytes() <= MAX_BYTES);
    }

    #[test]
    fn forgetting_a_name_drops_all_its_versions_only() {
        let cache = KeyCache::default();
        parsed(&cache, "k", "1");
        parsed(&cache, "k", "2");
        parsed(&cache, "other", "1");
        cache
            .get_or_parse::<()>("w", "k", "1", || Ok(ec()))
            .expect("parse");
        let before = cache.bytes();
        cache.forget("v", "k");
        assert_eq!(cache.len(), 2);
        assert!(cache.bytes() < before);
        assert!(parsed(&cache, "k", "1").1);
        assert!(!parsed(&cache, "other", "1").1);
    }

    #[test]
    fn debug_shows_counts_only() {
        let cache = KeyCache::default();
        parsed(&cache, "secret-name", "1");
        let text = format!("{cache:?}");
        assert!(text.contains("entries: 1"));
        assert!(!text.contains("secret-name"));
    }
}
