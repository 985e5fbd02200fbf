//! [`CachedStore`]: a [`Store`] wrapper that keeps each object's current version in memory, so
//! the hot read (get the latest version of a secret) does not reach the backend.
//!
//! What is cached: the answer of `version(address, None)` — the object and its current
//! version, sealed blobs included (values stay ciphertext in memory). A request for a specific
//! version is answered from the cache when it names the current one.
//!
//! Correctness: every write that can change an object goes through this wrapper, and after the
//! backend has answered it removes the object's entry and advances a global epoch, under the lock
//! of the entry's shard. A read that missed records the epoch before asking the backend and stores
//! what it got only if, under the same shard lock, the epoch has not moved. So an answer read
//! before a write committed can never be stored after that write's invalidation, and a write is
//! acknowledged only once no stale entry can be served. This holds while this process is the only
//! writer of the backend (the embedded store); a backend shared by several processes must not be
//! wrapped.
//!
//! Memory is bounded by a byte budget per shard; a shard over budget is emptied (reads then go to
//! the backend until it refills). Sixteen shards keep readers of different objects off each
//! other's locks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use std::time::Duration;

use crate::prelude::*;
use crate::{
    Deletion, DocumentOwner, DocumentRecord, ItemOutcome, Lease, LeaseFence, Listing,
    ObjectAddress, ObjectKind, ObjectRecord, ObjectWithVersion, OutboxRow, PolicyRecord,
    PrincipalRecord, PurgedObject, StoreResult, VaultRecord, VersionRecord, WriteBatch,
};

/// Number of shards (a power of two).
const SHARDS: usize = 16;
/// Default budget of sealed bytes over all shards.
pub const DEFAULT_BUDGET_BYTES: usize = 8 * 1024 * 1024;
/// Bookkeeping bytes counted per entry on top of its blobs and names.
const ENTRY_OVERHEAD: usize = 160;

/// `<vault>/<kind>/<name>` in lower case (neither names nor kinds contain `/`).
type Key = String;

#[derive(Default)]
struct Shard {
    entries: HashMap<Key, Arc<ObjectWithVersion>>,
    bytes: usize,
}

fn entry_size(key: &Key, value: &ObjectWithVersion) -> usize {
    key.len()
        + value.object.name.len()
        + value.object.head.len()
        + value.version.meta.len()
        + value.version.value.len()
        + ENTRY_OVERHEAD
}

/// A [`Store`] with the current version of each object cached in memory. See the module docs for
/// when it may be used.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    shards: Vec<RwLock<Shard>>,
    epoch: AtomicU64,
    shard_budget: usize,
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>, budget_bytes: usize) -> Self {
        Self {
            inner,
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            epoch: AtomicU64::new(0),
            shard_budget: (budget_bytes / SHARDS).max(1),
        }
    }

    fn key(vault: &str, kind: ObjectKind, name: &str) -> Key {
        let kind = kind.as_str();
        let mut key = String::with_capacity(vault.len() + kind.len() + name.len() + 2);
        for part in [vault, "/", kind, "/", name] {
            key.extend(part.chars().map(|c| c.to_ascii_lowercase()));
        }
        key
    }

    fn shard(&self, key: &Key) -> &RwLock<Shard> {
        use std::hash::BuildHasher;
        // A fixed hasher: the shard only spreads lock contention; the maps inside use random keys.
        let hash =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(key);
        let index = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    fn cached(&self, key: &Key) -> Option<Arc<ObjectWithVersion>> {
        let shard = self.shard(key).read().unwrap_or_else(|p| p.into_inner());
        shard.entries.get(key).cloned()
    }

    /// Stores a value read by a miss that started at `epoch`, unless a write intervened.
    fn fill(&self, key: Key, value: &Arc<ObjectWithVersion>, epoch: u64) {
        let mut shard = self.shard(&key).write().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        let size = entry_size(&key, value);
        if size > self.shard_budget {
            return;
        }
        if shard.bytes + size > self.shard_budget {
            shard.entries.clear();
            shard.bytes = 0;
        }
        if let Some(old) = shard.entries.insert(key.clone(), Arc::clone(value)) {
            shard.bytes = shard.bytes.saturating_sub(entry_size(&key, &old));
        }
        shard.bytes += size;
    }

    /// Forgets an object and those it may manage or be managed by (same vault and name, any
    /// kind: see the managed-by rule in `objects`), after a write to it, whether or not the write
    /// succeeded.
    fn invalidate_name(&self, address: &ObjectAddress) {
        for kind in [ObjectKind::Secret, ObjectKind::Key, ObjectKind::Certificate] {
            self.invalidate(&address.vault, kind, &address.name);
        }
    }

    /// Forgets one object after a write to it (whether or not the write succeeded).
    fn invalidate(&self, vault: &str, kind: ObjectKind, name: &str) {
        let key = Self::key(vault, kind, name);
        let mut shard = self.shard(&key).write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = shard.entries.remove(&key) {
            shard.bytes = shard.bytes.saturating_sub(entry_size(&key, &old));
        }
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets every object of a vault.
    fn invalidate_vault(&self, vault: &str) {
        let prefix = format!("{}/", vault.to_ascii_lowercase());
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|p| p.into_inner());
            shard.entries.retain(|k, _| !k.starts_with(&prefix));
            shard.bytes = shard.entries.iter().map(|(k, v)| entry_size(k, v)).sum();
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl VaultStore for CachedStore {
    async fn create_vault(&self, vault: &VaultRecord) -> StoreResult<()> {
        self.inner.create_vault(vault).await
    }

    async fn vault(&self, name: &str) -> StoreResult<Option<VaultRecord>> {
        self.inner.vault(name).await
    }

    async fn list_vaults(&self) -> StoreResult<Vec<VaultRecord>> {
        self.inner.list_vaults().await
    }

    async fn delete_vault(&self, name: &str) -> StoreResult<()> {
        let result = self.inner.delete_vault(name).await;
        self.invalidate_vault(name);
        result
    }
}

#[async_trait]
impl ObjectStore for CachedStore {
    async fn write(&self, batch: &WriteBatch) -> StoreResult<Vec<ItemOutcome>> {
        let result = self.inner.write(batch).await;
        for address in batch.objects() {
            self.invalidate(&address.vault, address.kind, &address.name);
        }
        result
    }

    async fn put_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let result = self.inner.put_version(address, version, head).await;
        self.invalidate(&address.vault, address.kind, &address.name);
        result
    }

    async fn update_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
    ) -> StoreResult<()> {
        let result = self.inner.update_version(address, version).await;
        self.invalidate(&address.vault, address.kind, &address.name);
        result
    }

    async fn object(&self, address: &ObjectAddress) -> StoreResult<Option<ObjectRecord>> {
        self.inner.object(address).await
    }

    async fn version(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<ObjectWithVersion>> {
        Ok(self
            .version_shared(address, version)
            .await?
            .map(Arc::unwrap_or_clone))
    }

    async fn version_shared(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<Arc<ObjectWithVersion>>> {
        let key = Self::key(&address.vault, address.kind, &address.name);
        if let Some(hit) = self.cached(&key) {
            if version.is_none_or(|v| v == hit.version.version) {
                return Ok(Some(hit));
            }
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let Some(found) = self.inner.version(address, version).await? else {
            return Ok(None);
        };
        let found = Arc::new(found);
        if found.is_current() {
            self.fill(key, &found, epoch);
        }
        Ok(Some(found))
    }

    async fn list_objects(
        &self,
        vault: &str,
        kind: ObjectKind,
        which: Listing,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectWithVersion>> {
        self.inner
            .list_objects(vault, kind, which, after, limit)
            .await
    }

    async fn list_versions(
        &self,
        address: &ObjectAddress,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<VersionRecord>> {
        self.inner.list_versions(address, after, limit).await
    }

    async fn delete_object(
        &self,
        address: &ObjectAddress,
        deletion: Deletion,
    ) -> StoreResult<ObjectRecord> {
        let result = self.inner.delete_object(address, deletion).await;
        self.invalidate_name(address);
        result
    }

    async fn recover_object(&self, address: &ObjectAddress) -> StoreResult<ObjectRecord> {
        let result = self.inner.recover_object(address).await;
        self.invalidate_name(address);
        result
    }

    async fn purge_object(&self, address: &ObjectAddress) -> StoreResult<()> {
        let result = self.inner.purge_object(address).await;
        self.invalidate_name(address);
        result
    }

    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<Vec<PurgedObject>> {
        let result = self.inner.purge_expired(now, limit).await;
        match &result {
            Ok(purged) => {
                for p in purged {
                    self.invalidate(&p.vault, p.kind, &p.name);
                }
            }
            // Which objects went is unknown: forget everything.
            Err(_) => {
                for shard in &self.shards {
                    let mut shard = shard.write().unwrap_or_else(|p| p.into_inner());
                    shard.entries.clear();
                    shard.bytes = 0;
                    self.epoch.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        result
    }

    async fn restore_object(
        &self,
        address: &ObjectAddress,
        versions: &[VersionRecord],
        current: &str,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let result = self
            .inner
            .restore_object(address, versions, current, head)
            .await;
        self.invalidate(&address.vault, address.kind, &address.name);
        result
    }

    async fn object_versions(&self, address: &ObjectAddress) -> StoreResult<Vec<VersionRecord>> {
        self.inner.object_versions(address).await
    }

    async fn reseal_object(
        &self,
        address: &ObjectAddress,
        head: &[u8],
        metas: &[(String, Vec<u8>)],
    ) -> StoreResult<()> {
        let result = self.inner.reseal_object(address, head, metas).await;
        self.invalidate(&address.vault, address.kind, &address.name);
        result
    }
}

/// Implements capability traits whose every method passes straight to the backend: nothing they
/// read or write is cached, so they need neither invalidation nor epochs.
macro_rules! forward_to_inner {
    ($($capability:ident {
        $(fn $method:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*
    })*) => {$(
        #[async_trait]
        impl $capability for CachedStore {
            $(async fn $method(&self, $($arg: $ty),*) -> StoreResult<$out> {
                self.inner.$method($($arg),*).await
            })*
        }
    )*};
}

forward_to_inner! {
    MetaStore {
        fn meta(key: &str) -> Option<Vec<u8>>;
        fn put_meta_if_absent(key: &str, value: &[u8]) -> bool;
        fn put_meta(key: &str, value: &[u8]) -> ();
    }
    AccessStore {
        fn create_principal(principal: &PrincipalRecord) -> ();
        fn update_principal(principal: &PrincipalRecord) -> ();
        fn principal(client_id: &str) -> Option<PrincipalRecord>;
        fn list_principals() -> Vec<PrincipalRecord>;
        fn delete_principal(client_id: &str) -> ();
        fn create_policy(record: &PolicyRecord) -> ();
        fn put_policy(record: &PolicyRecord) -> ();
        fn policy(kind: &str, id: &str) -> Option<PolicyRecord>;
        fn list_policies(kind: &str) -> Vec<PolicyRecord>;
        fn delete_policy(kind: &str, id: &str) -> ();
        fn delete_access(policies: &[(String, String)], principal: Option<&str>) -> ();
        fn access_generation() -> u64;
    }
    DocumentStore {
        fn document(owner: &DocumentOwner, kind: &str, id: &str) -> Option<DocumentRecord>;
        fn list_documents(owner: &DocumentOwner, kind: &str) -> Vec<DocumentRecord>;
    }
    OutboxStore {
        fn outbox_pending(after: Option<u64>, limit: usize) -> Vec<OutboxRow>;
        fn outbox_delivered(ids: &[u64]) -> u64;
    }
    LeaseStore {
        fn acquire_lease(name: &str, holder: &str, ttl: Duration) -> Option<Lease>;
        fn release_lease(fence: &LeaseFence) -> bool;
    }
}

#[async_trait]
impl Store for CachedStore {
    async fn close(&self) -> StoreResult<()> {
        let result = self.inner.close().await;
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|p| p.into_inner());
            shard.entries.clear();
            shard.bytes = 0;
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
}
