//! Objects (secrets, keys, certificates) and their versions, and [`WriteBatch`], the one
//! atomic write across several objects, their documents and the outbox.
//!
//! Addressing: an object is an [`ObjectAddress`] `(vault, kind, name)`; `vault` is a lower-case
//! vault name and `name` is compared ASCII-case-insensitively (backends key it by its lower-case
//! form and keep the spelling of the call that created the object). Versions are 32 lower-case
//! hex digits.
//!
//! Pending objects: an object may exist with no current version yet (a certificate whose
//! issuance is pending), made by [`BatchItem::CreatePending`]. Such an object is returned by
//! [`ObjectStore::object`]; [`ObjectStore::version`] with `version: None` answers `None` for it;
//! listings of objects leave it out (they list objects with their current version); its
//! versions list is empty; it is deleted, recovered and purged like any object. Its first
//! [`BatchItem::PutVersion`] gives it a current version.
//!
//! Managed objects: an object may name, when it is created, the object that manages it
//! ([`ObjectRecord::managed_by`]: a certificate's key and secret are managed by the
//! certificate). The manager has the same vault and the same name (ignoring case) and another
//! kind; anything else is `Invalid`. The link is stored and returned and never changes, and a
//! version is added to an object only by a put naming the same manager (or none for an unmanaged
//! object; anything else is `Conflict`). In the
//! same transaction as the call on the manager: [`ObjectStore::delete_object`] soft-deletes
//! every active object it manages with the same [`Deletion`]; [`ObjectStore::recover_object`]
//! recovers every deleted one; [`ObjectStore::purge_object`] and [`ObjectStore::purge_expired`]
//! purge every one, whatever its state. The cascade is one level deep (a managed object's own
//! managed objects are not followed) and does not run the other way (calls on a managed object
//! act on it alone; refusing them is the caller's business).

use std::sync::Arc;

use async_trait::async_trait;

pub use arca_core::{ObjectAddress, ObjectKind};

use crate::documents::{DocumentOwner, DocumentRecord};
use crate::lease::LeaseFence;
use crate::outbox::OutboxMessage;
use crate::{StoreError, StoreResult};

/// One version of an object. `meta` and `value` are sealed blobs (opaque to the store); the
/// attribute columns are kept in clear so that listing and expiry scans need no decryption.
#[derive(Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// 32 lower-case hex digits, unique within the object.
    pub version: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; changes on every update of this version.
    pub updated: i64,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    /// Sealed metadata (content type, tags, ...).
    pub meta: Vec<u8>,
    /// Sealed value.
    pub value: Vec<u8>,
}

impl std::fmt::Debug for VersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionRecord")
            .field("version", &self.version)
            .field("created", &self.created)
            .field("updated", &self.updated)
            .field("enabled", &self.enabled)
            .field("nbf", &self.nbf)
            .field("exp", &self.exp)
            .field("meta", &format_args!("[{} sealed bytes]", self.meta.len()))
            .field(
                "value",
                &format_args!("[{} sealed bytes]", self.value.len()),
            )
            .finish()
    }
}

/// The name-level state of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    /// The name as spelled by the call that created (or restored) the object.
    pub name: String,
    /// The current (latest) version id; `None` while the object is pending (see the module
    /// documentation).
    pub current_version: Option<String>,
    /// An opaque blob owned by the server that authenticates `current_version` (a sealed
    /// pointer); written together with `current_version` by [`BatchItem::PutVersion`] and
    /// [`ObjectStore::restore_object`] (and replaced by [`ObjectStore::reseal_object`]), kept as
    /// is otherwise. Empty for objects written before it existed.
    pub head: Vec<u8>,
    /// `Some` while the object is soft-deleted.
    pub deleted: Option<Deletion>,
    /// The object that manages this one (see the module documentation), as spelled when this
    /// object was created.
    pub managed_by: Option<ObjectAddress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// Unix seconds.
    pub deleted_at: i64,
    /// Unix seconds at which the object is purged automatically.
    pub scheduled_purge: i64,
}

/// One page of a listing of objects: one kind in one vault, active or deleted, the names after
/// `after` (a lower-case name from a previous page), at most `limit` of them. Named members, so
/// that the vault and the page mark (both strings) cannot be swapped by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectQuery<'a> {
    pub vault: &'a str,
    pub kind: ObjectKind,
    pub which: Listing,
    pub after: Option<&'a str>,
    pub limit: usize,
}

impl<'a> ObjectQuery<'a> {
    /// Every object of `kind` in `vault` in the state `which`, from the first name on.
    pub fn new(vault: &'a str, kind: ObjectKind, which: Listing) -> Self {
        ObjectQuery {
            vault,
            kind,
            which,
            after: None,
            limit: usize::MAX,
        }
    }

    /// Only names after `after`.
    pub fn after(self, after: Option<&'a str>) -> Self {
        ObjectQuery { after, ..self }
    }

    /// At most `limit` objects.
    pub fn limit(self, limit: usize) -> Self {
        ObjectQuery { limit, ..self }
    }
}

/// Which objects a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Active,
    Deleted,
}

/// An object together with one of its versions (its current one, in listings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectWithVersion {
    pub object: ObjectRecord,
    pub version: VersionRecord,
}

impl ObjectWithVersion {
    /// Whether `version` is the object's current version.
    pub fn is_current(&self) -> bool {
        self.object.current_version.as_deref() == Some(self.version.version.as_str())
    }
}

/// An object purged by [`ObjectStore::purge_expired`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedObject {
    pub vault: String,
    pub kind: ObjectKind,
    pub name: String,
}

/// `Invalid` unless `managed_by` may manage `address`: same vault, same name ignoring ASCII
/// case, another kind.
pub fn check_manager(address: &ObjectAddress, managed_by: &ObjectAddress) -> StoreResult<()> {
    if managed_by.vault == address.vault
        && managed_by.kind != address.kind
        && managed_by.name.eq_ignore_ascii_case(&address.name)
    {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a managing object must have the managed object's vault and name and another kind"
                .to_owned(),
        ))
    }
}

/// Whether a put naming `given` as manager may add a version to an object whose stored manager
/// is `stored`: both none, or both the same object (vault and kind exact, name ignoring ASCII
/// case, as a manager is always the object of the same name).
pub fn same_manager(stored: Option<&ObjectAddress>, given: Option<&ObjectAddress>) -> bool {
    match (stored, given) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.vault == b.vault && a.kind == b.kind && a.name.eq_ignore_ascii_case(&b.name)
        }
        _ => false,
    }
}

/// One write of a [`WriteBatch`]. Each has the semantics of the single-object method it is
/// named after, seeing the writes of the items before it in the same batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    /// Adds `version` to the object and makes it current, with `head` as the object's
    /// [`ObjectRecord::head`], creating the object (spelled as in `address`, managed by
    /// `managed_by`) if the name is unused. An existing object takes a version only from a put
    /// naming its own manager (see [`same_manager`]): none for an unmanaged object, its manager
    /// for a managed one, so neither an unmanaged write can add to a certificate's key or secret
    /// nor a certificate take over an unmanaged object of its name.
    /// `NotFound` if the vault does not exist; `Deleted` if the name is soft-deleted; `Conflict`
    /// if the object already has a version with this id or another manager; `Invalid` if
    /// `managed_by` cannot manage the object (see [`check_manager`]).
    PutVersion {
        address: ObjectAddress,
        version: VersionRecord,
        head: Vec<u8>,
        managed_by: Option<ObjectAddress>,
    },
    /// Creates a pending object: no version, no current version, `head` as its head.
    /// `NotFound` if the vault does not exist; `Deleted` if the name is soft-deleted; `Conflict`
    /// if the name is in use; `Invalid` as for `PutVersion`.
    CreatePending {
        address: ObjectAddress,
        head: Vec<u8>,
        managed_by: Option<ObjectAddress>,
    },
    /// Replaces the stored version whose id is `version.version` (its `created` is kept as
    /// stored; every other field is taken from `version`). The object must be active: `NotFound`
    /// if the object or version is missing, `Deleted` if the object is soft-deleted.
    UpdateVersion {
        address: ObjectAddress,
        version: VersionRecord,
    },
    /// Creates or replaces a document. Its owner must exist: `NotFound` if the vault or object
    /// does not, `Deleted` if the owning object is soft-deleted; `Invalid` over the limits of
    /// [`DocumentRecord`].
    PutDocument(DocumentRecord),
    /// Deletes a document, whatever its owner's state. `NotFound` if there is none; `Invalid`
    /// over the limits of [`DocumentRecord`].
    DeleteDocument {
        owner: DocumentOwner,
        kind: String,
        id: String,
    },
    /// Appends a row to the outbox; `Invalid` over the limits of [`OutboxMessage`].
    Append(OutboxMessage),
}

/// What one item of a successful batch produced, in the order of the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// `PutVersion` and `CreatePending`: the object as it now is.
    Object(ObjectRecord),
    /// `UpdateVersion`, `PutDocument`, `DeleteDocument`.
    Done,
    /// `Append`: the id of the new outbox row.
    Appended(u64),
}

/// Several writes applied in ONE transaction, all or nothing: the items in order, each with the
/// semantics (and errors) stated on [`BatchItem`]; if any item fails, the batch fails with that
/// item's error and nothing at all is written. With a `fence`, the batch is refused with
/// [`StoreError::LeaseLost`], before any item, unless that lease is still held with that fencing
/// number at the store's clock when the transaction runs (see [`crate::LeaseStore`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub items: Vec<BatchItem>,
    pub fence: Option<LeaseFence>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, item: BatchItem) -> &mut Self {
        self.items.push(item);
        self
    }

    /// The batch, refused unless `fence` still holds.
    pub fn fenced(mut self, fence: LeaseFence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// Every object address the batch writes to or under (objects written and owners of
    /// documents), for cache invalidation.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectAddress> {
        self.items.iter().filter_map(|item| match item {
            BatchItem::PutVersion { address, .. }
            | BatchItem::CreatePending { address, .. }
            | BatchItem::UpdateVersion { address, .. } => Some(address),
            BatchItem::PutDocument(DocumentRecord {
                owner: DocumentOwner::Object(address),
                ..
            })
            | BatchItem::DeleteDocument {
                owner: DocumentOwner::Object(address),
                ..
            } => Some(address),
            _ => None,
        })
    }

    /// `Invalid` if any item breaks a limit or a managed-by rule that needs no stored state.
    /// Backends call it before any work.
    pub fn check_limits(&self) -> StoreResult<()> {
        for item in &self.items {
            match item {
                BatchItem::PutVersion {
                    address,
                    managed_by: Some(manager),
                    ..
                }
                | BatchItem::CreatePending {
                    address,
                    managed_by: Some(manager),
                    ..
                } => check_manager(address, manager)?,
                BatchItem::PutDocument(record) => record.check_limits()?,
                BatchItem::DeleteDocument { kind, id, .. } => {
                    crate::documents::check_document_key(kind, id)?
                }
                BatchItem::Append(message) => message.check_limits()?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Objects and their versions.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Applies `batch` in one transaction (see [`WriteBatch`]) and returns one outcome per item.
    async fn write(&self, batch: &WriteBatch) -> StoreResult<Vec<ItemOutcome>>;

    /// One [`BatchItem::PutVersion`] with no manager, alone in a batch; returns the object.
    async fn put_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let batch = WriteBatch {
            items: vec![BatchItem::PutVersion {
                address: address.clone(),
                version: version.clone(),
                head: head.to_vec(),
                managed_by: None,
            }],
            fence: None,
        };
        match self.write(&batch).await?.pop() {
            Some(ItemOutcome::Object(record)) => Ok(record),
            _ => Err(StoreError::Corrupt(
                "a batch of one put answered no object".to_owned(),
            )),
        }
    }

    /// One [`BatchItem::UpdateVersion`], alone in a batch.
    async fn update_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
    ) -> StoreResult<()> {
        let batch = WriteBatch {
            items: vec![BatchItem::UpdateVersion {
                address: address.clone(),
                version: version.clone(),
            }],
            fence: None,
        };
        self.write(&batch).await.map(|_| ())
    }

    /// The object in any state (pending included), or `None`.
    async fn object(&self, address: &ObjectAddress) -> StoreResult<Option<ObjectRecord>>;

    /// The object and one of its versions (`version: None` = the current version), whether the
    /// object is active or deleted (callers check [`ObjectRecord::deleted`]). `None` if the
    /// object or the version does not exist, and for `None` on a pending object.
    async fn version(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<ObjectWithVersion>>;

    /// [`ObjectStore::version`], shared: a store that keeps records in memory hands out its copy
    /// instead of cloning it, which is what the read path wants.
    async fn version_shared(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<Arc<ObjectWithVersion>>> {
        Ok(self.version(address, version).await?.map(Arc::new))
    }

    /// The objects `query` names (one kind in one vault, active or deleted), with their current
    /// version, ordered by lower-case name; only names strictly greater than `query.after` (a
    /// lower-case name from a previous page), at most `query.limit` entries. Pending objects are
    /// left out. A vault that does not exist has no objects (an empty list, not an error).
    async fn list_objects(&self, query: ObjectQuery<'_>) -> StoreResult<Vec<ObjectWithVersion>>;

    /// Versions of one active object ordered by version id; only ids strictly greater than
    /// `after`; at most `limit`. `NotFound` if the object does not exist, `Deleted` if it is
    /// soft-deleted.
    async fn list_versions(
        &self,
        address: &ObjectAddress,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<VersionRecord>>;

    /// Soft-deletes an active object with all its versions (and the active objects it manages).
    /// `NotFound` if there is no such object, `Deleted` if it is already deleted. Returns the
    /// record in its deleted state.
    async fn delete_object(
        &self,
        address: &ObjectAddress,
        deletion: Deletion,
    ) -> StoreResult<ObjectRecord>;

    /// Brings a soft-deleted object back to the active state, all versions intact (and the
    /// deleted objects it manages). `NotFound` if the object does not exist or is not deleted.
    async fn recover_object(&self, address: &ObjectAddress) -> StoreResult<ObjectRecord>;

    /// Removes a soft-deleted object with all its versions and documents for good (and every
    /// object it manages). `NotFound` if the object does not exist or is not deleted.
    async fn purge_object(&self, address: &ObjectAddress) -> StoreResult<()>;

    /// Purges, in any vault, up to `limit` deleted objects whose `scheduled_purge <= now`, the
    /// earliest scheduled first, and returns them (with their names as spelled), followed by the
    /// objects they managed, purged with them (beyond `limit`).
    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<Vec<PurgedObject>>;

    /// Creates an object (spelled as in `address`, managed by no object) with all of `versions`
    /// at once, `current` being the current one and `head` its [`ObjectRecord::head`]. Checked
    /// in this order: `Corrupt` if `versions` is empty, has duplicate ids or lacks `current`;
    /// `NotFound` if the vault does not exist; `Conflict` if the name exists in any state.
    async fn restore_object(
        &self,
        address: &ObjectAddress,
        versions: &[VersionRecord],
        current: &str,
        head: &[u8],
    ) -> StoreResult<ObjectRecord>;

    // ---- maintenance ----
    //
    // For one-time upgrades of stored data (re-sealing), not for serving requests.

    /// Every version of the object, whether the object is active or deleted, ordered by version
    /// id. `NotFound` if there is no such object.
    async fn object_versions(&self, address: &ObjectAddress) -> StoreResult<Vec<VersionRecord>>;

    /// Replaces, in one transaction, the object's [`ObjectRecord::head`] with `head` and the
    /// `meta` of each listed `(version id, meta)`, whether the object is active or deleted;
    /// nothing else changes (`updated` and `current_version` included). `NotFound` if the object
    /// or any listed version does not exist, and then nothing changes.
    async fn reseal_object(
        &self,
        address: &ObjectAddress,
        head: &[u8],
        metas: &[(String, Vec<u8>)],
    ) -> StoreResult<()>;
}
