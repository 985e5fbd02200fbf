//! The storage contract of Arca: one trait, [`Store`], whose doc comments are its exact semantics,
//! and the conformance suite ([`conformance`]) that every backend must pass.
//!
//! Storage never sees plaintext: object values and metadata arrive already sealed
//! (`arca-crypto`), and principals carry only slow hashes of their secrets. A backend persists
//! bytes and enforces the lifecycle rules stated here atomically; it knows nothing of HTTP,
//! crypto or authorization.
//!
//! Addressing: an object is `(vault, kind, name)`; `vault` is a lower-case vault name and `name`
//! is compared ASCII-case-insensitively (backends key it by its lower-case form and keep the
//! spelling of the call that created the object). Versions are 32 lower-case hex digits.
//!
//! Access control: principals and access-control documents ([`PolicyRecord`], addressed by
//! `(kind, id)`, both compared exactly) are what the server's authorization reads. Every
//! successful write to either advances one counter, [`Store::access_generation`], in the same
//! transaction, so a cache of them knows it is stale by polling one number.
//!
//! Durability: every method that changes state returns only after the change is durable (on disk
//! for an embedded backend, committed for a database). Each such method is one atomic
//! transaction: on error nothing has changed.

pub mod cache;
pub mod conformance;

use async_trait::async_trait;

pub use arca_core::ObjectKind;
pub use cache::CachedStore;

/// Errors a backend reports. Lifecycle outcomes are variants, not strings, so callers can map
/// them to Key Vault's error codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The vault, object or version does not exist (or is not in the state the call needs).
    #[error("not found")]
    NotFound,
    /// The thing to create already exists (active or deleted).
    #[error("already exists")]
    Conflict,
    /// The object name is in the deleted state; only recover, purge and the deleted views apply.
    #[error("object is deleted")]
    Deleted,
    /// The backend cannot serve now (I/O error, lost connection, lock timeout). Retryable.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data violates the contract (bad row, schema mismatch). Not retryable.
    #[error("storage corrupt: {0}")]
    Corrupt(String),
    /// The arguments of the call break a documented limit (a policy id too long, ...); nothing
    /// was read or changed. A bug in the caller, not retryable. The message names the limit and
    /// never quotes the offending value.
    #[error("invalid storage request: {0}")]
    Invalid(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A vault as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRecord {
    /// Lower-case vault name; unique.
    pub name: String,
    /// Soft-delete retention, 7 to 90 days.
    pub retention_days: u32,
    pub purge_protection: bool,
    /// Unix seconds.
    pub created: i64,
}

/// A principal (client) as stored. `data` is an opaque document owned by the server (display
/// name, secret hashes, ...); the store only keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// The client (application) id; unique, compared exactly.
    pub client_id: String,
    /// The object id placed in tokens (`oid`); unique.
    pub object_id: String,
    pub created: i64,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for PrincipalRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalRecord")
            .field("client_id", &self.client_id)
            .field("object_id", &self.object_id)
            .field("created", &self.created)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .finish()
    }
}

/// The longest [`PolicyRecord::kind`], in bytes of UTF-8.
pub const POLICY_KIND_MAX: usize = 64;
/// The longest [`PolicyRecord::id`], in bytes of UTF-8.
pub const POLICY_ID_MAX: usize = 512;
/// The largest [`PolicyRecord::data`], in bytes (1 MiB).
pub const POLICY_DATA_MAX: usize = 1 << 20;

/// An access-control document: a custom role, a role assignment, a federated credential, a
/// network rule set, the token signing keys... `kind` and `id` identify it; `data` is an opaque
/// document owned by the server (it may be sealed ciphertext); the store only keeps it.
///
/// `kind` and `id` are compared exactly (case-sensitive, byte for byte) and may be any UTF-8
/// string of at most [`POLICY_KIND_MAX`] and [`POLICY_ID_MAX`] bytes (the empty string included);
/// `data` is at most [`POLICY_DATA_MAX`] bytes. Every method given a longer kind, id or data
/// fails with [`StoreError::Invalid`] before reading or changing anything.
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub kind: String,
    pub id: String,
    pub data: Vec<u8>,
}

impl PolicyRecord {
    /// `Invalid` unless `kind`, `id` and `data` are within the limits above. Backends call it
    /// (and the server may) before any work.
    pub fn check_limits(&self) -> StoreResult<()> {
        check_policy_key(&self.kind, &self.id)?;
        if self.data.len() > POLICY_DATA_MAX {
            return Err(StoreError::Invalid(format!(
                "policy data is larger than {POLICY_DATA_MAX} bytes"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for PolicyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyRecord")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .finish()
    }
}

/// `Invalid` unless `kind` is at most [`POLICY_KIND_MAX`] bytes and `id` at most
/// [`POLICY_ID_MAX`] bytes. The message names the limit, never the value.
pub fn check_policy_key(kind: &str, id: &str) -> StoreResult<()> {
    if kind.len() > POLICY_KIND_MAX {
        return Err(StoreError::Invalid(format!(
            "policy kind is longer than {POLICY_KIND_MAX} bytes"
        )));
    }
    if id.len() > POLICY_ID_MAX {
        return Err(StoreError::Invalid(format!(
            "policy id is longer than {POLICY_ID_MAX} bytes"
        )));
    }
    Ok(())
}

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
    /// The current (latest) version id.
    pub current_version: String,
    /// An opaque blob owned by the server that authenticates `current_version` (a sealed
    /// pointer); written together with `current_version` by [`Store::put_version`] and
    /// [`Store::restore_object`] (and replaced by [`Store::reseal_object`]), kept as is
    /// otherwise. Empty for objects written before it existed.
    pub head: Vec<u8>,
    /// `Some` while the object is soft-deleted.
    pub deleted: Option<Deletion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// Unix seconds.
    pub deleted_at: i64,
    /// Unix seconds at which the object is purged automatically.
    pub scheduled_purge: i64,
}

/// Which objects a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Active,
    Deleted,
}

/// An object together with its current version, as listings return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectWithVersion {
    pub object: ObjectRecord,
    pub version: VersionRecord,
}

/// An object purged by [`Store::purge_expired`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedObject {
    pub vault: String,
    pub kind: ObjectKind,
    pub name: String,
}

/// The storage contract. All methods are safe to call concurrently; reads never block on each
/// other. Names passed as `name` may be in any case (see the crate documentation).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- deployment metadata ----

    /// The bytes stored under `key`, or `None`.
    async fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` under `key` only if the key is absent. Returns `true` if it stored, `false`
    /// if a value was already there (which is left unchanged). Used for one-time initialisation
    /// that several replicas may race to perform.
    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> StoreResult<bool>;

    /// Stores `value` under `key`, replacing any previous value.
    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()>;

    // ---- vaults ----

    /// Creates a vault. `Conflict` if a vault of that name exists.
    async fn create_vault(&self, vault: &VaultRecord) -> StoreResult<()>;

    /// The vault named `name`, or `None`.
    async fn vault(&self, name: &str) -> StoreResult<Option<VaultRecord>>;

    /// All vaults, ordered by name.
    async fn list_vaults(&self) -> StoreResult<Vec<VaultRecord>>;

    /// Deletes a vault and every object and version in it, active or deleted. `NotFound` if there
    /// is no such vault. Principals and access-control documents are not touched (nor is the
    /// access generation), even those that concern the vault.
    async fn delete_vault(&self, name: &str) -> StoreResult<()>;

    // ---- principals ----
    //
    // Each successful create, update or delete advances the access generation by one, in the
    // same transaction (see `access_generation`).

    /// Creates a principal. `Conflict` if the client id or object id is taken.
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;

    /// Replaces the `data` of an existing principal (its ids and `created` are kept as stored).
    /// `NotFound` if there is none. Counts as a change even if `data` is the same.
    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;

    /// The principal with this client id, or `None`.
    async fn principal(&self, client_id: &str) -> StoreResult<Option<PrincipalRecord>>;

    /// All principals, ordered by client id.
    async fn list_principals(&self) -> StoreResult<Vec<PrincipalRecord>>;

    /// Deletes a principal. `NotFound` if there is none.
    async fn delete_principal(&self, client_id: &str) -> StoreResult<()>;

    // ---- access control ----
    //
    // Documents are addressed by `(kind, id)`, compared exactly. Every method here fails with
    // `Invalid`, before reading or changing anything, if a kind, id or data it is given is over
    // the limits stated on `PolicyRecord`.

    /// Creates the document `(record.kind, record.id)`. `Conflict` if a document with that kind
    /// and id exists (it is left unchanged).
    async fn create_policy(&self, record: &PolicyRecord) -> StoreResult<()>;

    /// Creates the document `(record.kind, record.id)`, or replaces the `data` of the one that
    /// exists. Counts as a change even if `data` is the same.
    async fn put_policy(&self, record: &PolicyRecord) -> StoreResult<()>;

    /// The document `(kind, id)`, or `None`.
    async fn policy(&self, kind: &str, id: &str) -> StoreResult<Option<PolicyRecord>>;

    /// All documents of exactly this kind, ordered by id in byte order (so `"B" < "a"`); empty
    /// if there are none.
    async fn list_policies(&self, kind: &str) -> StoreResult<Vec<PolicyRecord>>;

    /// Deletes the document `(kind, id)`. `NotFound` if there is none.
    async fn delete_policy(&self, kind: &str, id: &str) -> StoreResult<()>;

    /// Deletes several documents and/or one principal in one transaction: every listed
    /// `(kind, id)` that exists is removed (absent ones, and repeats, are ignored), and if
    /// `principal` is `Some(client_id)` that principal is removed too. `NotFound` if that
    /// principal does not exist, and then nothing at all changes (no document is removed, the
    /// access generation stays). Any successful call advances the access generation by exactly
    /// one, even if it found nothing to remove.
    async fn delete_access(
        &self,
        policies: &[(String, String)],
        principal: Option<&str>,
    ) -> StoreResult<()>;

    /// A counter that grows by exactly one with every successful call of `create_principal`,
    /// `update_principal`, `delete_principal`, `create_policy`, `put_policy`, `delete_policy`
    /// and `delete_access`, committed in the same transaction as that write: once either the
    /// write or the new value is visible to a reader, so is the other. Failed writes leave it
    /// unchanged, and no other method changes it (vault, object and metadata writes included).
    /// It is 0 on a new store and is stored with the data, so it survives reopening. Caches of
    /// principals and documents poll it to know when to reload.
    async fn access_generation(&self) -> StoreResult<u64>;

    // ---- objects ----

    /// Adds `version` to the object and makes it current, with `head` as the object's
    /// [`ObjectRecord::head`], creating the object (spelled `name`) if the name is unused.
    /// `NotFound` if the vault does not exist; `Deleted` if the name is soft-deleted; `Conflict`
    /// if the object already has a version with this id.
    async fn put_version(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        version: &VersionRecord,
        head: &[u8],
    ) -> StoreResult<ObjectRecord>;

    /// The object and one of its versions (`version: None` = the current version), whether the
    /// object is active or deleted (callers check [`ObjectRecord::deleted`]). `None` if the
    /// object or the version does not exist.
    async fn version(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        version: Option<&str>,
    ) -> StoreResult<Option<ObjectWithVersion>>;

    /// [`Store::version`], shared: a store that keeps records in memory hands out its copy
    /// instead of cloning it, which is what the read path wants.
    async fn version_shared(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        version: Option<&str>,
    ) -> StoreResult<Option<std::sync::Arc<ObjectWithVersion>>> {
        Ok(self
            .version(vault, kind, name, version)
            .await?
            .map(std::sync::Arc::new))
    }

    /// Replaces the stored version whose id is `version.version` (its `created` is kept as
    /// stored; every other field is taken from `version`). The object must be active: `NotFound`
    /// if the object or version is missing, `Deleted` if the object is soft-deleted.
    async fn update_version(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        version: &VersionRecord,
    ) -> StoreResult<()>;

    /// Objects of one kind in one vault, active or deleted per `which`, with their current
    /// version, ordered by lower-case name; only names strictly greater than `after` (a
    /// lower-case name from a previous page), at most `limit` entries. A vault that does not
    /// exist has no objects (an empty list, not an error).
    async fn list_objects(
        &self,
        vault: &str,
        kind: ObjectKind,
        which: Listing,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectWithVersion>>;

    /// Versions of one active object ordered by version id; only ids strictly greater than
    /// `after`; at most `limit`. `NotFound` if the object does not exist, `Deleted` if it is
    /// soft-deleted.
    async fn list_versions(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<VersionRecord>>;

    /// Soft-deletes an active object with all its versions. `NotFound` if there is no such
    /// object, `Deleted` if it is already deleted. Returns the record in its deleted state.
    async fn delete_object(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        deletion: Deletion,
    ) -> StoreResult<ObjectRecord>;

    /// Brings a soft-deleted object back to the active state, all versions intact. `NotFound`
    /// if the object does not exist or is not deleted.
    async fn recover_object(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
    ) -> StoreResult<ObjectRecord>;

    /// Removes a soft-deleted object and all its versions for good. `NotFound` if the object
    /// does not exist or is not deleted.
    async fn purge_object(&self, vault: &str, kind: ObjectKind, name: &str) -> StoreResult<()>;

    /// Purges, in any vault, up to `limit` deleted objects whose `scheduled_purge <= now`, the
    /// earliest scheduled first, and returns them (with their names as spelled).
    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<Vec<PurgedObject>>;

    /// Creates an object (spelled `name`) with all of `versions` at once, `current` being the
    /// current one and `head` its [`ObjectRecord::head`]. Checked in this order: `Corrupt` if
    /// `versions` is empty, has duplicate ids or lacks `current`; `NotFound` if the vault does
    /// not exist; `Conflict` if the name exists in any state.
    async fn restore_object(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        versions: &[VersionRecord],
        current: &str,
        head: &[u8],
    ) -> StoreResult<ObjectRecord>;

    // ---- maintenance ----
    //
    // For one-time upgrades of stored data (re-sealing), not for serving requests.

    /// Every version of the object, whether the object is active or deleted, ordered by version
    /// id. `NotFound` if there is no such object.
    async fn object_versions(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
    ) -> StoreResult<Vec<VersionRecord>>;

    /// Replaces, in one transaction, the object's [`ObjectRecord::head`] with `head` and the
    /// `meta` of each listed `(version id, meta)`, whether the object is active or deleted;
    /// nothing else changes (`updated` and `current_version` included). `NotFound` if the object
    /// or any listed version does not exist, and then nothing changes.
    async fn reseal_object(
        &self,
        vault: &str,
        kind: ObjectKind,
        name: &str,
        head: &[u8],
        metas: &[(String, Vec<u8>)],
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, id: &str, data: Vec<u8>) -> PolicyRecord {
        PolicyRecord {
            kind: kind.to_owned(),
            id: id.to_owned(),
            data,
        }
    }

    #[test]
    fn policy_debug_prints_the_length_of_data_not_data() {
        let shown = format!("{:?}", record("role", "reader", b"top-secret-doc".to_vec()));
        assert_eq!(
            shown,
            r#"PolicyRecord { kind: "role", id: "reader", data: [14 bytes] }"#
        );
        assert!(!shown.contains("top-secret"));
    }

    #[test]
    fn policy_limits_are_inclusive_and_counted_in_bytes() {
        let kind = "k".repeat(POLICY_KIND_MAX);
        let id = "i".repeat(POLICY_ID_MAX);
        record(&kind, &id, vec![0; POLICY_DATA_MAX])
            .check_limits()
            .unwrap();
        record("", "", Vec::new()).check_limits().unwrap();
        let too_long = [
            record(&format!("{kind}k"), "i", Vec::new()),
            // 33 two-byte characters: 66 bytes, though only 33 characters.
            record(&"é".repeat(33), "i", Vec::new()),
            record("k", &format!("{id}i"), Vec::new()),
            record("k", "i", vec![0; POLICY_DATA_MAX + 1]),
        ];
        for bad in too_long {
            match bad.check_limits() {
                Err(StoreError::Invalid(message)) => {
                    assert!(!message.contains("kkk") && !message.contains("iii"));
                }
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_display_names_the_limit_only() {
        let error = check_policy_key("role", &"secret-id-".repeat(60)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid storage request: policy id is longer than 512 bytes"
        );
    }
}
