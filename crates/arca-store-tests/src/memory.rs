//! [`MemoryStore`]: the reference implementation of the storage contract, in memory, written for
//! obviousness rather than speed (one mutex over the whole state; a batch works on a copy of the
//! state and swaps it in only if every item succeeded). The suite is judged against it, and
//! against the same store with one deliberate flaw ([`Flaw`]), which must fail the suite in the
//! case named for it. Servers' tests may use it as a store that needs no disk.
//!
//! Its clock (for leases) is the process's system clock unless given one.

use arca_store::{same_manager, ObjectQuery};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arca_core::{Clock, SystemClock};

use arca_store::prelude::*;
use arca_store::{
    check_document_key, check_lease_request, check_policy_key, BatchItem, Deletion, DocumentOwner,
    DocumentRecord, ItemOutcome, Lease, LeaseFence, Listing, ObjectAddress, ObjectKind,
    ObjectRecord, ObjectWithVersion, OutboxRow, PolicyRecord, PrincipalRecord, PurgedObject,
    StoreError, StoreResult, VaultRecord, VersionRecord, WriteBatch,
};
use async_trait::async_trait;

/// A deliberate mistake the reference store can make, so that the suite can be shown to catch
/// it. `None` is the correct store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    KeepsLatestSpelling,
    UpdateReplacesCreated,
    PurgeIgnoresLimit,
    InclusiveAfter,
    DuplicateVersionOverwrites,
    VaultDeleteKeepsObjects,
    MetaIfAbsentOverwrites,
    PolicyCreateOverwrites,
    PolicyKeysIgnoreCase,
    PolicyListIgnoresKind,
    DeleteAccessNotAtomic,
    GenerationCountsFailedWrites,
    PrincipalWritesKeepGeneration,
    /// A batch keeps the items before a failing one.
    BatchNotAtomic,
    /// Purging an object leaves its documents behind (a new object of that name finds them).
    PurgeKeepsDocuments,
    /// Deleting a vault leaves its own documents behind.
    VaultDeleteKeepsDocuments,
    /// Listings include pending objects (with some version).
    ListsPendingObjects,
    /// Deleting an object leaves the objects it manages active.
    DeleteSkipsManaged,
    /// Recovering an object leaves the objects it manages deleted.
    RecoverSkipsManaged,
    /// Outbox rows are listed newest first.
    OutboxNewestFirst,
    /// Acknowledged outbox rows stay pending.
    OutboxKeepsDelivered,
    /// A lease held by another holder is granted anyway.
    LeaseNotExclusive,
    /// A new term keeps the previous fencing number.
    FenceNeverGrows,
    /// A batch ignores its fence.
    BatchIgnoresFence,
    /// Closing does nothing.
    CloseIgnored,
}

type ObjectKey = (String, ObjectKind, String);

#[derive(Clone)]
struct Object {
    record: ObjectRecord,
    versions: BTreeMap<String, VersionRecord>,
}

#[derive(Clone)]
struct LeaseRow {
    holder: String,
    fence: u64,
    expires_at_ms: i64,
}

/// Documents keyed by `(owner key, kind, id)`; the owner key is `v:<vault>` or
/// `o:<vault>/<kind>/<lower-case name>`.
type DocumentKey = (String, String, String);

#[derive(Default, Clone)]
struct State {
    meta: BTreeMap<String, Vec<u8>>,
    vaults: BTreeMap<String, VaultRecord>,
    principals: BTreeMap<String, PrincipalRecord>,
    objects: BTreeMap<ObjectKey, Object>,
    /// Keyed by `(kind, id)`: the map's order is the listing order.
    policies: BTreeMap<(String, String), PolicyRecord>,
    generation: u64,
    documents: BTreeMap<DocumentKey, DocumentRecord>,
    outbox: BTreeMap<u64, OutboxRow>,
    outbox_next: u64,
    leases: BTreeMap<String, LeaseRow>,
}

/// The in-memory reference store. See the module documentation.
pub struct MemoryStore {
    state: Mutex<State>,
    flaw: Flaw,
    closed: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty, correct store.
    pub fn new() -> MemoryStore {
        MemoryStore::flawed(Flaw::None)
    }

    /// An empty store with one deliberate flaw (for judging the suite).
    pub fn flawed(flaw: Flaw) -> MemoryStore {
        MemoryStore::with_clock(flaw, Arc::new(SystemClock))
    }

    /// An empty store with `flaw` whose clock (for leases) is `clock`.
    pub fn with_clock(flaw: Flaw, clock: Arc<dyn Clock>) -> MemoryStore {
        MemoryStore {
            clock,
            state: Mutex::new(State {
                outbox_next: 1,
                ..State::default()
            }),
            flaw,
            closed: AtomicBool::new(false),
        }
    }

    /// The state, or `Unavailable` once closed.
    fn state(&self) -> StoreResult<MutexGuard<'_, State>> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("the store is closed".to_owned()));
        }
        Ok(self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn policy_key(&self, kind: &str, id: &str) -> (String, String) {
        if self.flaw == Flaw::PolicyKeysIgnoreCase {
            (kind.to_lowercase(), id.to_lowercase())
        } else {
            (kind.to_owned(), id.to_owned())
        }
    }

    /// Counts an access-control write: the step the contract asks for on success, and the
    /// steps the flaws take by mistake.
    fn count(&self, state: &mut State, result: &StoreResult<()>, principal: bool) {
        let counts = match self.flaw {
            Flaw::GenerationCountsFailedWrites => true,
            Flaw::PrincipalWritesKeepGeneration if principal => false,
            _ => result.is_ok(),
        };
        if counts {
            state.generation += 1;
        }
    }

    /// One batch item applied to `state`.
    fn apply(&self, state: &mut State, item: &BatchItem) -> StoreResult<ItemOutcome> {
        match item {
            BatchItem::PutVersion {
                address,
                version,
                head,
                managed_by,
            } => self
                .put_version_in(state, address, version, head, managed_by)
                .map(ItemOutcome::Object),
            BatchItem::CreatePending {
                address,
                head,
                managed_by,
            } => {
                if !state.vaults.contains_key(&address.vault) {
                    return Err(StoreError::NotFound);
                }
                match state.objects.get(&key(address)) {
                    Some(o) if o.record.deleted.is_some() => return Err(StoreError::Deleted),
                    Some(_) => return Err(StoreError::Conflict),
                    None => {}
                }
                let record = ObjectRecord {
                    name: address.name.clone(),
                    current_version: None,
                    head: head.clone(),
                    deleted: None,
                    managed_by: managed_by.clone(),
                };
                state.objects.insert(
                    key(address),
                    Object {
                        record: record.clone(),
                        versions: BTreeMap::new(),
                    },
                );
                Ok(ItemOutcome::Object(record))
            }
            BatchItem::UpdateVersion { address, version } => {
                let object = active_mut(state, &key(address))?;
                let stored = object
                    .versions
                    .get_mut(&version.version)
                    .ok_or(StoreError::NotFound)?;
                let created = stored.created;
                *stored = version.clone();
                if self.flaw != Flaw::UpdateReplacesCreated {
                    stored.created = created;
                }
                Ok(ItemOutcome::Done)
            }
            BatchItem::PutDocument(record) => {
                match &record.owner {
                    DocumentOwner::Vault(vault) => {
                        if !state.vaults.contains_key(vault) {
                            return Err(StoreError::NotFound);
                        }
                    }
                    DocumentOwner::Object(address) => {
                        active_mut(state, &key(address))?;
                    }
                }
                state.documents.insert(
                    document_key(&record.owner, &record.kind, &record.id),
                    record.clone(),
                );
                Ok(ItemOutcome::Done)
            }
            BatchItem::DeleteDocument { owner, kind, id } => state
                .documents
                .remove(&document_key(owner, kind, id))
                .map(|_| ItemOutcome::Done)
                .ok_or(StoreError::NotFound),
            BatchItem::Append(message) => {
                let id = state.outbox_next;
                state.outbox_next += 1;
                state.outbox.insert(
                    id,
                    OutboxRow {
                        id,
                        message: message.clone(),
                    },
                );
                Ok(ItemOutcome::Appended(id))
            }
        }
    }

    fn put_version_in(
        &self,
        state: &mut State,
        address: &ObjectAddress,
        version: &VersionRecord,
        head: &[u8],
        managed_by: &Option<ObjectAddress>,
    ) -> StoreResult<ObjectRecord> {
        if !state.vaults.contains_key(&address.vault) {
            return Err(StoreError::NotFound);
        }
        if let Some(existing) = state.objects.get(&key(address)) {
            if existing.record.deleted.is_none()
                && !same_manager(existing.record.managed_by.as_ref(), managed_by.as_ref())
            {
                return Err(StoreError::Conflict);
            }
        }
        let flaw = self.flaw;
        let object = state.objects.entry(key(address)).or_insert_with(|| Object {
            record: ObjectRecord {
                name: address.name.clone(),
                current_version: None,
                head: head.to_vec(),
                deleted: None,
                managed_by: managed_by.clone(),
            },
            versions: BTreeMap::new(),
        });
        if object.record.deleted.is_some() {
            return Err(StoreError::Deleted);
        }
        if object.versions.contains_key(&version.version)
            && flaw != Flaw::DuplicateVersionOverwrites
        {
            return Err(StoreError::Conflict);
        }
        object
            .versions
            .insert(version.version.clone(), version.clone());
        object.record.current_version = Some(version.version.clone());
        object.record.head = head.to_vec();
        if flaw == Flaw::KeepsLatestSpelling {
            object.record.name = address.name.clone();
        }
        Ok(object.record.clone())
    }

    /// Removes an object with its documents.
    fn remove_object(&self, state: &mut State, k: &ObjectKey) -> Option<Object> {
        let removed = state.objects.remove(k)?;
        if self.flaw != Flaw::PurgeKeepsDocuments {
            let owner = object_owner_key(k);
            state.documents.retain(|d, _| d.0 != owner);
        }
        Some(removed)
    }

    /// The keys of the objects the object `k` manages.
    fn managed(state: &State, k: &ObjectKey) -> Vec<ObjectKey> {
        state
            .objects
            .iter()
            .filter(|(_, o)| o.record.managed_by.as_ref().is_some_and(|m| key(m) == *k))
            .map(|(mk, _)| mk.clone())
            .collect()
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    fn fence_holds(&self, state: &State, fence: &LeaseFence) -> bool {
        if self.flaw == Flaw::BatchIgnoresFence {
            return true;
        }
        state
            .leases
            .get(&fence.name)
            .is_some_and(|l| l.fence == fence.fence && l.expires_at_ms > self.now_ms())
    }
}

fn key(address: &ObjectAddress) -> ObjectKey {
    (address.vault.clone(), address.kind, address.lower_name())
}

fn object_owner_key(k: &ObjectKey) -> String {
    format!("o:{}/{}/{}", k.0, k.1, k.2)
}

fn owner_key(owner: &DocumentOwner) -> String {
    match owner {
        DocumentOwner::Vault(vault) => format!("v:{vault}"),
        DocumentOwner::Object(address) => object_owner_key(&key(address)),
    }
}

fn document_key(owner: &DocumentOwner, kind: &str, id: &str) -> DocumentKey {
    (owner_key(owner), kind.to_owned(), id.to_owned())
}

fn with_version(object: &Object, id: &str) -> Option<ObjectWithVersion> {
    object.versions.get(id).map(|v| ObjectWithVersion {
        object: object.record.clone(),
        version: v.clone(),
    })
}

fn active_mut<'a>(state: &'a mut State, key: &ObjectKey) -> StoreResult<&'a mut Object> {
    match state.objects.get_mut(key) {
        None => Err(StoreError::NotFound),
        Some(o) if o.record.deleted.is_some() => Err(StoreError::Deleted),
        Some(o) => Ok(o),
    }
}

#[async_trait]
impl MetaStore for MemoryStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.state()?.meta.get(key).cloned())
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> StoreResult<bool> {
        let mut state = self.state()?;
        if state.meta.contains_key(key) && self.flaw != Flaw::MetaIfAbsentOverwrites {
            return Ok(false);
        }
        state.meta.insert(key.to_owned(), value.to_vec());
        Ok(true)
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.state()?.meta.insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}

#[async_trait]
impl VaultStore for MemoryStore {
    async fn create_vault(&self, vault: &VaultRecord) -> StoreResult<()> {
        let mut state = self.state()?;
        if state.vaults.contains_key(&vault.name) {
            return Err(StoreError::Conflict);
        }
        state.vaults.insert(vault.name.clone(), vault.clone());
        Ok(())
    }

    async fn vault(&self, name: &str) -> StoreResult<Option<VaultRecord>> {
        Ok(self.state()?.vaults.get(name).cloned())
    }

    async fn list_vaults(&self) -> StoreResult<Vec<VaultRecord>> {
        Ok(self.state()?.vaults.values().cloned().collect())
    }

    async fn delete_vault(&self, name: &str) -> StoreResult<()> {
        let mut state = self.state()?;
        state.vaults.remove(name).ok_or(StoreError::NotFound)?;
        if self.flaw != Flaw::VaultDeleteKeepsObjects {
            let gone: Vec<ObjectKey> = state
                .objects
                .keys()
                .filter(|k| k.0 == name)
                .cloned()
                .collect();
            for k in gone {
                self.remove_object(&mut state, &k);
            }
        }
        if self.flaw != Flaw::VaultDeleteKeepsDocuments {
            let owner = format!("v:{name}");
            state.documents.retain(|d, _| d.0 != owner);
        }
        Ok(())
    }
}

#[async_trait]
impl AccessStore for MemoryStore {
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        let mut state = self.state()?;
        let taken = state
            .principals
            .values()
            .any(|p| p.client_id == principal.client_id || p.object_id == principal.object_id);
        let result = if taken {
            Err(StoreError::Conflict)
        } else {
            state
                .principals
                .insert(principal.client_id.clone(), principal.clone());
            Ok(())
        };
        self.count(&mut state, &result, true);
        result
    }

    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        let mut state = self.state()?;
        let result = match state.principals.get_mut(&principal.client_id) {
            Some(stored) => {
                stored.data = principal.data.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound),
        };
        self.count(&mut state, &result, true);
        result
    }

    async fn principal(&self, client_id: &str) -> StoreResult<Option<PrincipalRecord>> {
        Ok(self.state()?.principals.get(client_id).cloned())
    }

    async fn list_principals(&self) -> StoreResult<Vec<PrincipalRecord>> {
        Ok(self.state()?.principals.values().cloned().collect())
    }

    async fn delete_principal(&self, client_id: &str) -> StoreResult<()> {
        let mut state = self.state()?;
        let result = state
            .principals
            .remove(client_id)
            .map(|_| ())
            .ok_or(StoreError::NotFound);
        self.count(&mut state, &result, true);
        result
    }

    async fn create_policy(&self, record: &PolicyRecord) -> StoreResult<()> {
        record.check_limits()?;
        let mut state = self.state()?;
        let key = self.policy_key(&record.kind, &record.id);
        let result =
            if state.policies.contains_key(&key) && self.flaw != Flaw::PolicyCreateOverwrites {
                Err(StoreError::Conflict)
            } else {
                state.policies.insert(key, record.clone());
                Ok(())
            };
        self.count(&mut state, &result, false);
        result
    }

    async fn put_policy(&self, record: &PolicyRecord) -> StoreResult<()> {
        record.check_limits()?;
        let mut state = self.state()?;
        let key = self.policy_key(&record.kind, &record.id);
        state.policies.insert(key, record.clone());
        self.count(&mut state, &Ok(()), false);
        Ok(())
    }

    async fn policy(&self, kind: &str, id: &str) -> StoreResult<Option<PolicyRecord>> {
        check_policy_key(kind, id)?;
        let state = self.state()?;
        Ok(state.policies.get(&self.policy_key(kind, id)).cloned())
    }

    async fn list_policies(&self, kind: &str) -> StoreResult<Vec<PolicyRecord>> {
        check_policy_key(kind, "")?;
        let state = self.state()?;
        let any_kind = self.flaw == Flaw::PolicyListIgnoresKind;
        Ok(state
            .policies
            .values()
            .filter(|r| any_kind || r.kind == kind)
            .cloned()
            .collect())
    }

    async fn delete_policy(&self, kind: &str, id: &str) -> StoreResult<()> {
        check_policy_key(kind, id)?;
        let mut state = self.state()?;
        let result = state
            .policies
            .remove(&self.policy_key(kind, id))
            .map(|_| ())
            .ok_or(StoreError::NotFound);
        self.count(&mut state, &result, false);
        result
    }

    async fn delete_access(
        &self,
        policies: &[(String, String)],
        principal: Option<&str>,
    ) -> StoreResult<()> {
        for (kind, id) in policies {
            check_policy_key(kind, id)?;
        }
        let mut state = self.state()?;
        let missing = principal.is_some_and(|p| !state.principals.contains_key(p));
        let result = if missing {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        };
        if result.is_ok() || self.flaw == Flaw::DeleteAccessNotAtomic {
            for (kind, id) in policies {
                let key = self.policy_key(kind, id);
                state.policies.remove(&key);
            }
            if let Some(p) = principal {
                state.principals.remove(p);
            }
        }
        self.count(&mut state, &result, false);
        result
    }

    async fn access_generation(&self) -> StoreResult<u64> {
        Ok(self.state()?.generation)
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn write(&self, batch: &WriteBatch) -> StoreResult<Vec<ItemOutcome>> {
        batch.check_limits()?;
        let mut state = self.state()?;
        if let Some(fence) = &batch.fence {
            if !self.fence_holds(&state, fence) {
                return Err(StoreError::LeaseLost);
            }
        }
        if self.flaw == Flaw::BatchNotAtomic {
            return batch
                .items
                .iter()
                .map(|item| self.apply(&mut state, item))
                .collect();
        }
        let mut draft = state.clone();
        let outcomes = batch
            .items
            .iter()
            .map(|item| self.apply(&mut draft, item))
            .collect::<StoreResult<Vec<_>>>()?;
        *state = draft;
        Ok(outcomes)
    }

    async fn object(&self, address: &ObjectAddress) -> StoreResult<Option<ObjectRecord>> {
        Ok(self
            .state()?
            .objects
            .get(&key(address))
            .map(|o| o.record.clone()))
    }

    async fn version(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<ObjectWithVersion>> {
        let state = self.state()?;
        Ok(state.objects.get(&key(address)).and_then(|o| {
            let id = version.or(o.record.current_version.as_deref())?;
            with_version(o, id)
        }))
    }

    async fn list_objects(&self, query: ObjectQuery<'_>) -> StoreResult<Vec<ObjectWithVersion>> {
        let ObjectQuery {
            vault,
            kind,
            which,
            after,
            limit,
        } = query;
        let state = self.state()?;
        let inclusive = self.flaw == Flaw::InclusiveAfter;
        let with_pending = self.flaw == Flaw::ListsPendingObjects;
        Ok(state
            .objects
            .iter()
            .filter(|(k, _)| k.0 == vault && k.1 == kind)
            .filter(|(k, _)| match after {
                None => true,
                Some(a) if inclusive => k.2.as_str() >= a,
                Some(a) => k.2.as_str() > a,
            })
            .filter(|(_, o)| (o.record.deleted.is_some()) == (which == Listing::Deleted))
            .filter_map(|(_, o)| match o.record.current_version.as_deref() {
                Some(current) => with_version(o, current),
                None if with_pending => Some(ObjectWithVersion {
                    object: o.record.clone(),
                    version: VersionRecord {
                        version: String::new(),
                        created: 0,
                        updated: 0,
                        enabled: false,
                        nbf: None,
                        exp: None,
                        meta: Vec::new(),
                        value: Vec::new(),
                    },
                }),
                None => None,
            })
            .take(limit)
            .collect())
    }

    async fn list_versions(
        &self,
        address: &ObjectAddress,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<VersionRecord>> {
        let mut state = self.state()?;
        let object = active_mut(&mut state, &key(address))?;
        Ok(object
            .versions
            .values()
            .filter(|v| after.is_none_or(|a| v.version.as_str() > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_object(
        &self,
        address: &ObjectAddress,
        deletion: Deletion,
    ) -> StoreResult<ObjectRecord> {
        let mut state = self.state()?;
        let k = key(address);
        let object = active_mut(&mut state, &k)?;
        object.record.deleted = Some(deletion);
        let record = object.record.clone();
        if self.flaw != Flaw::DeleteSkipsManaged {
            for mk in Self::managed(&state, &k) {
                if let Some(m) = state.objects.get_mut(&mk) {
                    if m.record.deleted.is_none() {
                        m.record.deleted = Some(deletion);
                    }
                }
            }
        }
        Ok(record)
    }

    async fn recover_object(&self, address: &ObjectAddress) -> StoreResult<ObjectRecord> {
        let mut state = self.state()?;
        let k = key(address);
        let record = match state.objects.get_mut(&k) {
            Some(o) if o.record.deleted.is_some() => {
                o.record.deleted = None;
                o.record.clone()
            }
            _ => return Err(StoreError::NotFound),
        };
        if self.flaw != Flaw::RecoverSkipsManaged {
            for mk in Self::managed(&state, &k) {
                if let Some(m) = state.objects.get_mut(&mk) {
                    m.record.deleted = None;
                }
            }
        }
        Ok(record)
    }

    async fn purge_object(&self, address: &ObjectAddress) -> StoreResult<()> {
        let mut state = self.state()?;
        let k = key(address);
        match state.objects.get(&k) {
            Some(o) if o.record.deleted.is_some() => {
                for mk in Self::managed(&state, &k) {
                    self.remove_object(&mut state, &mk);
                }
                self.remove_object(&mut state, &k);
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<Vec<PurgedObject>> {
        let mut state = self.state()?;
        let limit = if self.flaw == Flaw::PurgeIgnoresLimit {
            usize::MAX
        } else {
            limit
        };
        let mut due: Vec<(i64, ObjectKey)> = state
            .objects
            .iter()
            .filter_map(|(k, o)| {
                o.record
                    .deleted
                    .filter(|d| d.scheduled_purge <= now)
                    .map(|d| (d.scheduled_purge, k.clone()))
            })
            .collect();
        due.sort();
        let mut purged = Vec::new();
        let mut managed = Vec::new();
        for (_, k) in due.into_iter().take(limit) {
            if let Some(o) = self.remove_object(&mut state, &k) {
                purged.push(PurgedObject {
                    vault: k.0.clone(),
                    kind: k.1,
                    name: o.record.name,
                });
            }
            for mk in Self::managed(&state, &k) {
                if let Some(m) = self.remove_object(&mut state, &mk) {
                    managed.push(PurgedObject {
                        vault: mk.0,
                        kind: mk.1,
                        name: m.record.name,
                    });
                }
            }
        }
        purged.extend(managed);
        Ok(purged)
    }

    async fn restore_object(
        &self,
        address: &ObjectAddress,
        versions: &[VersionRecord],
        current: &str,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let map: BTreeMap<String, VersionRecord> = versions
            .iter()
            .map(|v| (v.version.clone(), v.clone()))
            .collect();
        if map.is_empty() || map.len() != versions.len() || !map.contains_key(current) {
            return Err(StoreError::Corrupt("bad restore input".to_owned()));
        }
        let mut state = self.state()?;
        if !state.vaults.contains_key(&address.vault) {
            return Err(StoreError::NotFound);
        }
        let k = key(address);
        if state.objects.contains_key(&k) {
            return Err(StoreError::Conflict);
        }
        let record = ObjectRecord {
            name: address.name.clone(),
            current_version: Some(current.to_owned()),
            head: head.to_vec(),
            deleted: None,
            managed_by: None,
        };
        state.objects.insert(
            k,
            Object {
                record: record.clone(),
                versions: map,
            },
        );
        Ok(record)
    }

    async fn object_versions(&self, address: &ObjectAddress) -> StoreResult<Vec<VersionRecord>> {
        let state = self.state()?;
        let object = state
            .objects
            .get(&key(address))
            .ok_or(StoreError::NotFound)?;
        Ok(object.versions.values().cloned().collect())
    }

    async fn reseal_object(
        &self,
        address: &ObjectAddress,
        head: &[u8],
        metas: &[(String, Vec<u8>)],
    ) -> StoreResult<()> {
        let mut state = self.state()?;
        let object = state
            .objects
            .get_mut(&key(address))
            .ok_or(StoreError::NotFound)?;
        if metas.iter().any(|(v, _)| !object.versions.contains_key(v)) {
            return Err(StoreError::NotFound);
        }
        object.record.head = head.to_vec();
        for (v, meta) in metas {
            if let Some(stored) = object.versions.get_mut(v) {
                stored.meta = meta.clone();
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn document(
        &self,
        owner: &DocumentOwner,
        kind: &str,
        id: &str,
    ) -> StoreResult<Option<DocumentRecord>> {
        check_document_key(kind, id)?;
        Ok(self
            .state()?
            .documents
            .get(&document_key(owner, kind, id))
            .cloned())
    }

    async fn list_documents(
        &self,
        owner: &DocumentOwner,
        kind: &str,
    ) -> StoreResult<Vec<DocumentRecord>> {
        check_document_key(kind, "")?;
        let owner = owner_key(owner);
        Ok(self
            .state()?
            .documents
            .iter()
            .filter(|(k, _)| k.0 == owner && k.1 == kind)
            .map(|(_, d)| d.clone())
            .collect())
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn outbox_pending(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<OutboxRow>> {
        let state = self.state()?;
        let rows = state
            .outbox
            .values()
            .filter(|r| after.is_none_or(|a| r.id > a))
            .cloned();
        Ok(if self.flaw == Flaw::OutboxNewestFirst {
            rows.rev().take(limit).collect()
        } else {
            rows.take(limit).collect()
        })
    }

    async fn outbox_delivered(&self, ids: &[u64]) -> StoreResult<u64> {
        let mut state = self.state()?;
        if self.flaw == Flaw::OutboxKeepsDelivered {
            return Ok(0);
        }
        let mut removed = 0;
        for id in ids {
            if state.outbox.remove(id).is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl LeaseStore for MemoryStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        let ttl_ms = check_lease_request(name, holder, ttl)?;
        let mut state = self.state()?;
        let now = self.now_ms();
        let expires_at_ms = now.saturating_add(ttl_ms);
        let fence = match state.leases.get(name) {
            Some(l) if l.expires_at_ms > now && l.holder == holder => l.fence,
            Some(l) if l.expires_at_ms > now && self.flaw != Flaw::LeaseNotExclusive => {
                return Ok(None)
            }
            Some(l) if self.flaw == Flaw::FenceNeverGrows => l.fence,
            Some(l) => l.fence + 1,
            None => 1,
        };
        state.leases.insert(
            name.to_owned(),
            LeaseRow {
                holder: holder.to_owned(),
                fence,
                expires_at_ms,
            },
        );
        Ok(Some(Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            fence,
            expires_at_ms,
        }))
    }

    async fn release_lease(&self, fence: &LeaseFence) -> StoreResult<bool> {
        let mut state = self.state()?;
        let now = self.now_ms();
        match state.leases.get_mut(&fence.name) {
            Some(l) if l.fence == fence.fence && l.expires_at_ms > now => {
                l.expires_at_ms = now;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn close(&self) -> StoreResult<()> {
        if self.flaw != Flaw::CloseIgnored {
            self.closed.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}
