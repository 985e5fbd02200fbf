//! The lifecycle every object kind shares: reading a version, listing objects and versions,
//! soft-delete, recover, purge, backup and restore, and the sealing of versions' fields and
//! metadata. It speaks store records ([`ObjectWithVersion`], [`VersionRecord`]), never a kind's
//! view: each kind's module (`secrets`, later `keys` and `certificates`) turns records into its
//! own types, so this module depends on none of them.
//!
//! Each public function takes the caller's [`Authorized`] proof and checks that it is for this
//! kind's operation of the lifecycle step ([`Step`]) on this object (or vault), before it reads
//! anything. Integrity is checked here too: a current version is served only with a valid head
//! (`integrity`), and listings leave out (and report) entries that fail.

use arca_store::ObjectQuery;
use std::sync::Arc;

use arca_core::limits::MAX_BACKUP_VERSIONS;
use arca_core::{ObjectAddress, ObjectKind, ObjectName, Operation, VaultSettings, VersionId};
use arca_crypto::{record_aad, SecretBytes};
use arca_store::{
    BatchItem, Deletion, ItemOutcome, LeaseFence, Listing, ObjectRecord, ObjectWithVersion,
    StoreError, VaultRecord, VersionRecord, WriteBatch,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::integrity;

/// The store address of the object `name` of `kind` in `vault`.
fn address(vault: &str, kind: ObjectKind, name: &ObjectName) -> ObjectAddress {
    ObjectAddress::new(vault, kind, name.as_str())
}
use crate::{Authorized, Engine, EngineError, EngineResult};

/// A step of the shared lifecycle; with a kind it names the [`Operation`] whose proof it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    List,
    ListVersions,
    ListDeleted,
    GetDeleted,
    Delete,
    Recover,
    Purge,
    Backup,
    Restore,
}

/// The operation of `step` for objects of `kind`.
pub fn operation(kind: ObjectKind, step: Step) -> Operation {
    use Operation::*;
    match (kind, step) {
        (ObjectKind::Secret, Step::List) => SecretList,
        (ObjectKind::Secret, Step::ListVersions) => SecretListVersions,
        (ObjectKind::Secret, Step::ListDeleted) => SecretListDeleted,
        (ObjectKind::Secret, Step::GetDeleted) => SecretGetDeleted,
        (ObjectKind::Secret, Step::Delete) => SecretDelete,
        (ObjectKind::Secret, Step::Recover) => SecretRecover,
        (ObjectKind::Secret, Step::Purge) => SecretPurge,
        (ObjectKind::Secret, Step::Backup) => SecretBackup,
        (ObjectKind::Secret, Step::Restore) => SecretRestore,
        (ObjectKind::Key, Step::List) => KeyList,
        (ObjectKind::Key, Step::ListVersions) => KeyListVersions,
        (ObjectKind::Key, Step::ListDeleted) => KeyListDeleted,
        (ObjectKind::Key, Step::GetDeleted) => KeyGetDeleted,
        (ObjectKind::Key, Step::Delete) => KeyDelete,
        (ObjectKind::Key, Step::Recover) => KeyRecover,
        (ObjectKind::Key, Step::Purge) => KeyPurge,
        (ObjectKind::Key, Step::Backup) => KeyBackup,
        (ObjectKind::Key, Step::Restore) => KeyRestore,
        (ObjectKind::Certificate, Step::List) => CertificateList,
        (ObjectKind::Certificate, Step::ListVersions) => CertificateListVersions,
        (ObjectKind::Certificate, Step::ListDeleted) => CertificateListDeleted,
        (ObjectKind::Certificate, Step::GetDeleted) => CertificateGetDeleted,
        (ObjectKind::Certificate, Step::Delete) => CertificateDelete,
        (ObjectKind::Certificate, Step::Recover) => CertificateRecover,
        (ObjectKind::Certificate, Step::Purge) => CertificatePurge,
        (ObjectKind::Certificate, Step::Backup) => CertificateBackup,
        (ObjectKind::Certificate, Step::Restore) => CertificateRestore,
    }
}

/// Refuses (as an internal error: it is a bug in the caller) a proof that is not for
/// `operation` on the object `name` of `vault`.
pub(crate) fn require_object(
    auth: &Authorized,
    operation: Operation,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<()> {
    require(
        auth,
        operation,
        auth.permits_object(operation, vault, name.as_str()),
    )
}

/// [`require_object`] for an operation on the vault as a whole.
pub(crate) fn require_vault(
    auth: &Authorized,
    operation: Operation,
    vault: &str,
) -> EngineResult<()> {
    require(auth, operation, auth.permits_vault(operation, vault))
}

fn require(auth: &Authorized, operation: Operation, permitted: bool) -> EngineResult<()> {
    if permitted {
        return Ok(());
    }
    tracing::error!(
        wanted = operation.audit_name(),
        proof = auth.operation().audit_name(),
        "an operation was called with a proof of authorization for something else"
    );
    Err(EngineError::Internal)
}

/// One page of a listing and the cursor of the next page, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    fn empty() -> Self {
        Page {
            items: Vec::new(),
            next: None,
        }
    }
}

/// The retention and purge protection of a vault.
pub fn settings(vault: &VaultRecord) -> VaultSettings {
    VaultSettings {
        retention_days: vault.retention_days,
        purge_protection: vault.purge_protection,
    }
}

pub(crate) fn new_version_id() -> EngineResult<VersionId> {
    Ok(VersionId::from_random(arca_crypto::random_bytes::<16>()?))
}

pub(crate) fn not_found(kind: ObjectKind, name: &ObjectName) -> EngineError {
    EngineError::NotFound {
        kind,
        name: name.as_str().to_owned(),
    }
}

pub(crate) fn deleted_not_found(kind: ObjectKind, name: &ObjectName) -> EngineError {
    EngineError::DeletedNotFound {
        kind,
        name: name.as_str().to_owned(),
    }
}

fn name_from_store(object: &ObjectRecord) -> EngineResult<ObjectName> {
    ObjectName::parse(&object.name).map_err(|_| {
        tracing::error!("stored object name is invalid");
        EngineError::Internal
    })
}

// ---- sealing of versions ----

/// Seals `plain` as the field `field` of a version, bound to its place.
pub(crate) fn seal_field(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: &str,
    field: &str,
    plain: &[u8],
) -> EngineResult<Vec<u8>> {
    let aad = record_aad(vault, kind.as_str(), name.key(), version, field);
    Ok(engine.keyring().seal(&aad, plain)?)
}

/// Opens the field `field` of a version. A field that does not open (altered, or sealed for
/// another place: another vault, object, version or field) is reported as an integrity failure
/// naming the version and the field, and refused.
pub(crate) fn open_field(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: &str,
    field: &str,
    sealed: &[u8],
) -> EngineResult<SecretBytes> {
    let aad = record_aad(vault, kind.as_str(), name.key(), version, field);
    engine.keyring().open(&aad, sealed).map_err(|_| {
        integrity::refused_object(vault, kind, name.key(), version, field);
        EngineError::Internal
    })
}

/// Seals `meta` for `record`, bound to the record's place and its clear attributes (which must
/// therefore be final).
pub(crate) fn seal_meta<M: Serialize>(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    record: &VersionRecord,
    meta: &M,
) -> EngineResult<Vec<u8>> {
    let json = serde_json::to_vec(meta).map_err(|_| EngineError::Internal)?;
    Ok(engine
        .keyring()
        .seal(&integrity::meta_aad(vault, kind, name.key(), record), &json)?)
}

/// Opens a version's metadata, which verifies its clear attributes too; a version that fails is
/// reported and refused.
pub(crate) fn open_meta<M: DeserializeOwned>(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<M> {
    let plain = engine
        .keyring()
        .open(
            &integrity::meta_aad(vault, kind, name.key(), record),
            &record.meta,
        )
        .map_err(|_| {
            integrity::refused_object(vault, kind, name.key(), &record.version, "attributes");
            EngineError::Internal
        })?;
    serde_json::from_slice(plain.expose()).map_err(|_| {
        tracing::error!(vault, kind = kind.as_str(), version = %record.version, "version metadata does not parse");
        EngineError::Internal
    })
}

/// Refuses an object whose head does not prove its current version (one small AES-GCM open).
fn verify_head(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    object: &ObjectRecord,
) -> EngineResult<()> {
    if integrity::head_is_valid(engine.keyring(), vault, kind, name.key(), object) {
        Ok(())
    } else {
        Err(EngineError::Internal)
    }
}

// ---- reads ----

/// The version `version` (default: the current one) of an object in the state `wanted` (active
/// or soft-deleted), as the store shares it; `None` if there is none in that state. The current
/// version is served only once the object's head proves it. Callers have checked their proof.
async fn in_state(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&VersionId>,
    wanted: Listing,
) -> EngineResult<Option<Arc<ObjectWithVersion>>> {
    let found = engine
        .store()
        .version_shared(&address(vault, kind, name), version.map(VersionId::as_str))
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let state = match found.object.deleted {
        None => Listing::Active,
        Some(_) => Listing::Deleted,
    };
    if state != wanted {
        return Ok(None);
    }
    if version.is_none() {
        verify_head(engine, vault, kind, name, &found.object)?;
    }
    Ok(Some(found))
}

/// The version `version` (default: the current one) of an active object, as the store shares
/// it. Deleted objects are invisible here. Callers have checked their proof.
pub(crate) async fn active(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> EngineResult<Arc<ObjectWithVersion>> {
    in_state(engine, vault, kind, name, version, Listing::Active)
        .await?
        .ok_or_else(|| not_found(kind, name))
}

/// [`active`], as an owned copy to change.
pub(crate) async fn active_owned(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> EngineResult<(ObjectRecord, VersionRecord)> {
    let found = Arc::unwrap_or_clone(active(engine, vault, kind, name, version).await?);
    Ok((found.object, found.version))
}

/// A soft-deleted object with its current version. Callers have checked their proof.
async fn deleted_object(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<ObjectWithVersion> {
    in_state(engine, vault, kind, name, None, Listing::Deleted)
        .await?
        .map(Arc::unwrap_or_clone)
        .ok_or_else(|| deleted_not_found(kind, name))
}

// ---- writes ----

/// Adds `record` to the object (creating it) and makes it current, with a fresh head.
pub(crate) async fn put_version(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<ObjectRecord> {
    put_version_fenced(engine, vault, kind, name, record, None).await
}

/// [`put_version`], refused (as unavailable, nothing written) unless `fence`, a background
/// job's lease term, still holds when the write commits.
pub(crate) async fn put_version_fenced(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    record: &VersionRecord,
    fence: Option<&LeaseFence>,
) -> EngineResult<ObjectRecord> {
    let head = integrity::seal_head(engine.keyring(), vault, kind, name.key(), &record.version)?;
    let address = address(vault, kind, name);
    let written = match fence {
        None => engine.store().put_version(&address, record, &head).await,
        Some(fence) => {
            let batch = WriteBatch {
                items: vec![BatchItem::PutVersion {
                    address,
                    version: record.clone(),
                    head,
                    managed_by: None,
                }],
                fence: Some(fence.clone()),
            };
            match engine.store().write(&batch).await.map(|mut o| o.pop()) {
                Ok(Some(ItemOutcome::Object(o))) => Ok(o),
                Ok(_) => Err(StoreError::Corrupt(
                    "a batch of one put answered no object".to_owned(),
                )),
                Err(e) => Err(e),
            }
        }
    };
    match written {
        Ok(o) => Ok(o),
        Err(StoreError::Deleted) => Err(EngineError::Deleted {
            kind,
            name: name.as_str().to_owned(),
        }),
        Err(StoreError::NotFound) => Err(EngineError::VaultNotFound {
            vault: vault.to_owned(),
        }),
        Err(StoreError::LeaseLost) => {
            tracing::warn!(
                vault,
                "a background job's lease no longer holds; its write was refused"
            );
            Err(EngineError::Unavailable)
        }
        // A put naming no manager is refused on a certificate's key or secret.
        Err(StoreError::Conflict) => match stored_object(engine, vault, kind, name).await? {
            Some(object) if object.managed_by.is_some() => Err(EngineError::Managed {
                kind,
                operation: match kind {
                    ObjectKind::Secret => "set",
                    _ => "create",
                },
            }),
            _ => Err(StoreError::Conflict.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Replaces a version of an active object.
pub(crate) async fn update_version(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<()> {
    match engine
        .store()
        .update_version(&address(vault, kind, name), record)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound | StoreError::Deleted) => Err(not_found(kind, name)),
        Err(e) => Err(e.into()),
    }
}

// ---- the lifecycle ----

/// One page of the active (or deleted) objects of `kind` in `vault`, with their current
/// versions, after the lower-case name `after`. An entry whose head fails verification is left
/// out (and reported), so that one altered row does not take the whole listing down; reading it
/// directly answers an internal error.
pub async fn list(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    which: Listing,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<(ObjectName, ObjectWithVersion)>> {
    let step = match which {
        Listing::Active => Step::List,
        Listing::Deleted => Step::ListDeleted,
    };
    require_vault(auth, operation(kind, step), &vault.name)?;
    let mut rows = engine
        .store()
        .list_objects(
            ObjectQuery::new(&vault.name, kind, which)
                .after(after)
                .limit(limit + 1),
        )
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| r.object.name.to_ascii_lowercase())
    } else {
        None
    };
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let name = name_from_store(&r.object)?;
        if integrity::head_is_valid(engine.keyring(), &vault.name, kind, name.key(), &r.object) {
            items.push((name, r));
        }
    }
    Ok(Page { items, next })
}

/// The versions of an active object, one page after the version id `after`, with the object.
/// A name with no active versions (never created, purged, or soft-deleted) has none, as in Key
/// Vault: a listing is a query, not a lookup of one object, and a deleted object's versions are
/// as invisible here as they are to a get.
pub async fn list_versions(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<(Option<ObjectRecord>, Page<VersionRecord>)> {
    require_object(auth, operation(kind, Step::ListVersions), &vault.name, name)?;
    let object = match engine
        .store()
        .version(&address(&vault.name, kind, name), None)
        .await?
    {
        Some(f) if f.object.deleted.is_none() => f.object,
        _ => return Ok((None, Page::empty())),
    };
    let mut rows = match engine
        .store()
        .list_versions(&address(&vault.name, kind, name), after, limit + 1)
        .await
    {
        Ok(rows) => rows,
        Err(StoreError::NotFound | StoreError::Deleted) => return Ok((None, Page::empty())),
        Err(e) => return Err(e.into()),
    };
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| r.version.clone())
    } else {
        None
    };
    Ok((Some(object), Page { items: rows, next }))
}

/// Refuses `operation` on an object a certificate manages (its key or secret).
pub(crate) fn refuse_managed(
    kind: ObjectKind,
    object: &ObjectRecord,
    operation: &'static str,
) -> EngineResult<()> {
    match object.managed_by {
        Some(_) => Err(EngineError::Managed { kind, operation }),
        None => Ok(()),
    }
}

/// The object at `name`, in any state, if there is one.
async fn stored_object(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<Option<ObjectRecord>> {
    Ok(engine.store().object(&address(vault, kind, name)).await?)
}

/// Soft-deletes an active object with all its versions, scheduling its purge by the vault's
/// retention; returns it in its deleted state.
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<ObjectWithVersion> {
    require_object(auth, operation(kind, Step::Delete), &vault.name, name)?;
    if let Some(object) = stored_object(engine, &vault.name, kind, name).await? {
        refuse_managed(kind, &object, "delete")?;
    }
    let now = engine.now();
    let deletion = Deletion {
        deleted_at: now,
        scheduled_purge: settings(vault).scheduled_purge(now),
    };
    match engine
        .store()
        .delete_object(&address(&vault.name, kind, name), deletion)
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound | StoreError::Deleted) => return Err(not_found(kind, name)),
        Err(e) => return Err(e.into()),
    }
    deleted_object(engine, &vault.name, kind, name).await
}

/// A soft-deleted object with its current version.
pub async fn get_deleted(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<ObjectWithVersion> {
    require_object(auth, operation(kind, Step::GetDeleted), &vault.name, name)?;
    deleted_object(engine, &vault.name, kind, name).await
}

/// Brings a soft-deleted object back, all versions intact; returns its current version.
pub async fn recover(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<(ObjectRecord, VersionRecord)> {
    require_object(auth, operation(kind, Step::Recover), &vault.name, name)?;
    if let Some(object) = stored_object(engine, &vault.name, kind, name).await? {
        refuse_managed(kind, &object, "recover")?;
    }
    match engine
        .store()
        .recover_object(&address(&vault.name, kind, name))
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(deleted_not_found(kind, name)),
        Err(e) => return Err(e.into()),
    }
    active_owned(engine, &vault.name, kind, name, None).await
}

/// Removes a soft-deleted object for good; refused under purge protection until its scheduled
/// purge date.
pub async fn purge(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<()> {
    require_object(auth, operation(kind, Step::Purge), &vault.name, name)?;
    let found = engine
        .store()
        .version(&address(&vault.name, kind, name), None)
        .await?;
    let Some(object) = found.map(|f| f.object) else {
        return Err(deleted_not_found(kind, name));
    };
    let Some(deletion) = object.deleted else {
        return Err(deleted_not_found(kind, name));
    };
    refuse_managed(kind, &object, "purge")?;
    if vault.purge_protection && engine.now() < deletion.scheduled_purge {
        return Err(EngineError::PurgeProtected { kind });
    }
    match engine
        .store()
        .purge_object(&address(&vault.name, kind, name))
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(deleted_not_found(kind, name)),
        Err(e) => Err(e.into()),
    }
}

/// Every version of an active object, for a backup, with the object; refused when it has more
/// than [`MAX_BACKUP_VERSIONS`].
pub async fn backup_versions(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<(ObjectRecord, Vec<VersionRecord>)> {
    require_object(auth, operation(kind, Step::Backup), &vault.name, name)?;
    let (object, _) = active_owned(engine, &vault.name, kind, name, None).await?;
    refuse_managed(kind, &object, "backup")?;
    let records = match engine
        .store()
        .list_versions(
            &address(&vault.name, kind, name),
            None,
            MAX_BACKUP_VERSIONS + 1,
        )
        .await
    {
        Ok(r) => r,
        Err(StoreError::NotFound | StoreError::Deleted) => return Err(not_found(kind, name)),
        Err(e) => return Err(e.into()),
    };
    if records.len() > MAX_BACKUP_VERSIONS {
        return Err(EngineError::Invalid(format!(
            "The {kind} has more than {MAX_BACKUP_VERSIONS} versions and cannot be backed up."
        )));
    }
    Ok((object, records))
}

/// Seals a backup document of `kind` into a blob (base64url) that only this deployment opens.
pub fn seal_backup(engine: &Engine, kind: ObjectKind, plain: &[u8]) -> EngineResult<String> {
    let sealed = engine.keyring().seal_backup(kind.as_str(), plain)?;
    Ok(crate::b64url(&sealed))
}

/// The message of every refused backup blob: it does not say which check failed.
pub const INVALID_BACKUP: &str = "The backup blob is malformed or was not made by this deployment.";

/// Opens a backup blob of `kind`; every failure is the same [`EngineError::Invalid`].
pub fn open_backup(engine: &Engine, kind: ObjectKind, blob: &str) -> EngineResult<SecretBytes> {
    let invalid = || EngineError::Invalid(INVALID_BACKUP.into());
    let sealed = crate::b64url_decode(blob).ok_or_else(invalid)?;
    engine
        .keyring()
        .open_backup(kind.as_str(), &sealed)
        .map_err(|_| invalid())
}

/// Creates an object from restored versions (already sealed for `vault`), `current` being the
/// current one; returns the object with its current version.
pub async fn restore(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    kind: ObjectKind,
    name: &ObjectName,
    records: &[VersionRecord],
    current: &str,
) -> EngineResult<(ObjectRecord, VersionRecord)> {
    require_vault(auth, operation(kind, Step::Restore), &vault.name)?;
    let head = integrity::seal_head(engine.keyring(), &vault.name, kind, name.key(), current)?;
    match engine
        .store()
        .restore_object(&address(&vault.name, kind, name), records, current, &head)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            let existing = engine
                .store()
                .version(&address(&vault.name, kind, name), None)
                .await?;
            return Err(match existing {
                Some(f) if f.object.deleted.is_some() => EngineError::Deleted {
                    kind,
                    name: name.as_str().to_owned(),
                },
                _ => EngineError::Conflict {
                    kind,
                    message: format!(
                        "{} {} already exists; restore requires an unused name.",
                        capitalized(kind),
                        name.as_str()
                    ),
                },
            });
        }
        Err(StoreError::Corrupt(_)) => return Err(EngineError::Invalid(INVALID_BACKUP.into())),
        Err(StoreError::NotFound) => {
            return Err(EngineError::VaultNotFound {
                vault: vault.name.clone(),
            })
        }
        Err(e) => return Err(e.into()),
    }
    active_owned(engine, &vault.name, kind, name, None).await
}

/// The kind's name with a capital, as Key Vault starts its messages.
pub fn capitalized(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Secret => "Secret",
        ObjectKind::Key => "Key",
        ObjectKind::Certificate => "Certificate",
    }
}

// ---- views ----
//
// Each kind's module turns pages of records into its own views through these (added with keys;
// secrets can move onto them).

/// The views `view` makes of `rows`, leaving out versions that fail verification: `view` answers
/// [`EngineError::Internal`] for them, and `open_meta` has reported them.
pub(crate) fn views_of<'r, T>(
    rows: impl Iterator<Item = (&'r ObjectName, &'r ObjectRecord, &'r VersionRecord)>,
    mut view: impl FnMut(&ObjectName, &ObjectRecord, &VersionRecord) -> EngineResult<T>,
) -> EngineResult<Vec<T>> {
    let mut items = Vec::new();
    for (name, object, record) in rows {
        match view(name, object, record) {
            Ok(item) => items.push(item),
            Err(EngineError::Internal) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(items)
}

/// A page of [`list`] as views.
pub(crate) fn object_views<T>(
    page: Page<(ObjectName, ObjectWithVersion)>,
    view: impl FnMut(&ObjectName, &ObjectRecord, &VersionRecord) -> EngineResult<T>,
) -> EngineResult<Page<T>> {
    let rows = page.items.iter().map(|(n, r)| (n, &r.object, &r.version));
    let items = views_of(rows, view)?;
    Ok(Page {
        items,
        next: page.next,
    })
}

/// A page of [`list_versions`] of the object `name` as views.
pub(crate) fn version_views<T>(
    name: &ObjectName,
    (object, page): (Option<ObjectRecord>, Page<VersionRecord>),
    view: impl FnMut(&ObjectName, &ObjectRecord, &VersionRecord) -> EngineResult<T>,
) -> EngineResult<Page<T>> {
    let items = match &object {
        Some(object) => views_of(page.items.iter().map(|r| (name, object, r)), view)?,
        None => Vec::new(),
    };
    Ok(Page {
        items,
        next: page.next,
    })
}

/// A version's id and clear attributes: what a new version starts from, and what a backup
/// document carries of each version besides its sealed fields.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ClearAttributes {
    pub version: String,
    pub created: i64,
    pub updated: i64,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

impl ClearAttributes {
    pub(crate) fn of(record: &VersionRecord) -> Self {
        ClearAttributes {
            version: record.version.clone(),
            created: record.created,
            updated: record.updated,
            enabled: record.enabled,
            nbf: record.nbf,
            exp: record.exp,
        }
    }

    /// The version record of the object `name` with these attributes, `value` sealed as its
    /// field `field` and `meta` as its metadata.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn seal<M: Serialize>(
        &self,
        engine: &Engine,
        vault: &str,
        kind: ObjectKind,
        name: &ObjectName,
        field: &str,
        value: &[u8],
        meta: &M,
    ) -> EngineResult<VersionRecord> {
        let sealed = seal_field(engine, vault, kind, name, &self.version, field, value)?;
        let mut record = VersionRecord {
            version: self.version.clone(),
            created: self.created,
            updated: self.updated,
            enabled: self.enabled,
            nbf: self.nbf,
            exp: self.exp,
            meta: Vec::new(),
            value: sealed,
        };
        record.meta = seal_meta(engine, vault, kind, name, &record, meta)?;
        Ok(record)
    }
}
