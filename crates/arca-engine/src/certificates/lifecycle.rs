//! Certificates on the shared lifecycle: get, update, the policy (get, PATCH), list (with
//! `includePending`), versions, delete, get deleted, recover, purge, backup and restore.
//!
//! Delete, recover and purge act on the certificate object; the store carries them to the key
//! and secret the certificate manages in the same transaction. An update keeps the version's
//! key and secret enabled or disabled with it. A backup carries every version of all three and
//! the policy in one sealed blob, and a restore writes them back in one batch.

use arca_core::limits::MAX_BACKUP_VERSIONS;
use arca_core::{ObjectAddress, ObjectKind, ObjectName, Operation, VersionId};
use arca_proto::certificates::{CertificatePolicy, CertificateUpdateParameters};
use arca_proto::SecretText;
use arca_store::{BatchItem, Listing, StoreError, VaultRecord, VersionRecord, WriteBatch};
use serde::{Deserialize, Serialize};

use super::issue::{check_tags, write};
use super::policy;
use super::stored::{self, address, Meta, StoredPolicy, KIND, PENDING};
use super::CertificateView;
use crate::integrity::seal_head;
use crate::objects::{self, require_object, require_vault, ClearAttributes, Page};
use crate::{Authorized, Engine, EngineError, EngineResult};

/// A version (default: the current one) of an active certificate, with its policy.
pub async fn get(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> EngineResult<CertificateView> {
    require_object(auth, Operation::CertificateGet, &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, version).await?;
    let mut view = stored::view(engine, vault, name, &found.object, &found.version, true)?;
    view.policy = stored::policy(engine, &vault.name, name)
        .await?
        .map(|p| p.policy);
    Ok(view)
}

/// Changes a version's enabled flag and tags (its key and secret follow the flag), and merges a
/// policy sent with it into the certificate's policy. `nbf` and `exp` are the certificate's
/// validity and cannot be changed.
pub async fn update(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
    params: CertificateUpdateParameters,
) -> EngineResult<CertificateView> {
    require_object(auth, Operation::CertificateUpdate, &vault.name, name)?;
    check_tags(params.tags.as_ref())?;
    let (object, mut record) =
        objects::active_owned(engine, &vault.name, KIND, name, version).await?;
    let mut meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, &record)?;
    if let Some(tags) = params.tags {
        meta.tags = Some(tags);
    }
    if let Some(enabled) = params.attributes.and_then(|a| a.enabled) {
        record.enabled = enabled;
    }
    record.updated = engine.now();
    record.meta = objects::seal_meta(engine, &vault.name, KIND, name, &record, &meta)?;
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::UpdateVersion {
        address: address(&vault.name, name),
        version: record.clone(),
    });
    batch
        .items
        .extend(stored::managed_updates(engine, &vault.name, name, &record).await?);
    let mut stored_policy = stored::policy(engine, &vault.name, name).await?;
    if let Some(patch) = params.policy {
        let changed = patched(engine, stored_policy.as_ref(), patch)?;
        batch.push(stored::policy_item(engine, &vault.name, name, &changed)?);
        stored_policy = Some(changed);
    }
    write(engine, &vault.name, name, &batch).await?;
    let chain = stored::open_chain(engine, &vault.name, name, &record)?;
    let leaf = stored::leaf_der(&chain, &meta.x5t)?;
    let mut view = stored::view_of(vault, &object, &record, meta, leaf);
    view.policy = stored_policy.map(|p| p.policy);
    Ok(view)
}

/// `patch` merged into the stored policy (or normalized, when there is none).
fn patched(
    engine: &Engine,
    stored: Option<&StoredPolicy>,
    patch: CertificatePolicy,
) -> EngineResult<StoredPolicy> {
    let now = engine.now();
    Ok(match stored {
        Some(s) => StoredPolicy {
            policy: policy::merge(&s.policy, patch)?,
            created: s.created,
            updated: now,
        },
        None => StoredPolicy {
            policy: policy::normalize(patch)?,
            created: now,
            updated: now,
        },
    })
}

/// The certificate object, active (pending included); `NotFound` otherwise.
async fn active_object(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<arca_store::ObjectRecord> {
    match engine.store().object(&address(vault, name)).await? {
        Some(o) if o.deleted.is_none() => Ok(o),
        _ => Err(objects::not_found(KIND, name)),
    }
}

/// The policy of a certificate (also of one still pending), with its times.
pub async fn get_policy(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<StoredPolicy> {
    require_object(auth, Operation::CertificatePolicyGet, &vault.name, name)?;
    active_object(engine, &vault.name, name).await?;
    stored::policy(engine, &vault.name, name)
        .await?
        .ok_or_else(|| objects::not_found(KIND, name))
}

/// Merges `patch` into the certificate's policy: members sent replace the stored ones.
pub async fn update_policy(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    patch: CertificatePolicy,
) -> EngineResult<StoredPolicy> {
    require_object(auth, Operation::CertificatePolicyUpdate, &vault.name, name)?;
    active_object(engine, &vault.name, name).await?;
    let stored_policy = stored::policy(engine, &vault.name, name).await?;
    let changed = patched(engine, stored_policy.as_ref(), patch)?;
    let mut batch = WriteBatch::new();
    batch.push(stored::policy_item(engine, &vault.name, name, &changed)?);
    write(engine, &vault.name, name, &batch).await?;
    Ok(changed)
}

/// A certificate listed with `includePending` that has no version yet.
#[derive(Debug, Clone)]
pub struct PendingItem {
    pub name: String,
}

/// One page of the vault's active (or deleted) certificates; with `include_pending`, the last
/// page also names the certificates that have only a pending operation.
pub async fn list(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    which: Listing,
    after: Option<&str>,
    limit: usize,
    include_pending: bool,
) -> EngineResult<(Page<CertificateView>, Vec<PendingItem>)> {
    let page = objects::list(engine, auth, vault, KIND, which, after, limit).await?;
    let last_page = page.next.is_none();
    let views = objects::object_views(page, |n, o, r| stored::view(engine, vault, n, o, r, false))?;
    let mut pending_only = Vec::new();
    if include_pending && last_page && which == Listing::Active {
        let documents: Vec<(String, stored::Pending)> = PENDING.list(engine, &vault.name).await?;
        for (_, p) in documents {
            let Ok(name) = ObjectName::parse(&p.name) else {
                continue;
            };
            if let Some(o) = engine.store().object(&address(&vault.name, &name)).await? {
                if o.current_version.is_none() && o.deleted.is_none() {
                    pending_only.push(PendingItem { name: o.name });
                }
            }
        }
    }
    Ok((views, pending_only))
}

/// One page of an active certificate's versions.
pub async fn list_versions(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<CertificateView>> {
    let listed = objects::list_versions(engine, auth, vault, KIND, name, after, limit).await?;
    objects::version_views(name, listed, |n, o, r| {
        stored::view(engine, vault, n, o, r, false)
    })
}

/// A deleted view with its policy.
async fn with_policy(
    engine: &Engine,
    vault: &VaultRecord,
    name: &ObjectName,
    mut view: CertificateView,
) -> EngineResult<CertificateView> {
    view.policy = stored::policy(engine, &vault.name, name)
        .await?
        .map(|p| p.policy);
    Ok(view)
}

/// Soft-deletes a certificate with its key and secret; answers it in its deleted state.
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<CertificateView> {
    require_object(auth, Operation::CertificateDelete, &vault.name, name)?;
    // A certificate that is only pending has nothing to delete but its pending operation.
    objects::active(engine, &vault.name, KIND, name, None).await?;
    let f = objects::delete(engine, auth, vault, KIND, name).await?;
    engine.key_cache().forget(&vault.name, name.key());
    let view = stored::view(engine, vault, name, &f.object, &f.version, true)?;
    with_policy(engine, vault, name, view).await
}

pub async fn get_deleted(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<CertificateView> {
    let f = objects::get_deleted(engine, auth, vault, KIND, name).await?;
    let view = stored::view(engine, vault, name, &f.object, &f.version, true)?;
    with_policy(engine, vault, name, view).await
}

/// Recovers a deleted certificate with its key and secret.
pub async fn recover(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<CertificateView> {
    let (object, record) = objects::recover(engine, auth, vault, KIND, name).await?;
    let view = stored::view(engine, vault, name, &object, &record, true)?;
    with_policy(engine, vault, name, view).await
}

/// Purges a deleted certificate with its key, secret, policy and pending operation.
pub async fn purge(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<()> {
    objects::purge(engine, auth, vault, KIND, name).await?;
    engine.key_cache().forget(&vault.name, name.key());
    PENDING.delete(engine, &vault.name, name.key()).await?;
    Ok(())
}

// ---- backup and restore ----

const BACKUP_FORMAT: u32 = 1;

/// One version of one of the three objects in a backup: clear attributes, and the sealed value
/// and metadata opened (they are sealed again, for the restoring vault, by restore).
#[derive(Serialize, Deserialize)]
struct BackupVersion {
    attributes: ClearAttributes,
    /// The value's plaintext, base64url (a chain, a private key's storage form, a secret).
    value: SecretText,
    /// The metadata document.
    meta: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct Backup {
    format: u32,
    name: String,
    current: String,
    certificate: Vec<BackupVersion>,
    key: Vec<BackupVersion>,
    secret: Vec<BackupVersion>,
    policy: Option<StoredPolicy>,
}

/// The field each kind seals its value under.
fn value_field(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Certificate => "chain",
        ObjectKind::Key => "key",
        ObjectKind::Secret => "value",
    }
}

/// Every version of the object `name` of `kind`, opened for a backup.
async fn backup_versions_of(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
) -> EngineResult<Vec<BackupVersion>> {
    let address = ObjectAddress::new(vault, kind, name.as_str());
    let records = match engine
        .store()
        .list_versions(&address, None, MAX_BACKUP_VERSIONS + 1)
        .await
    {
        Ok(r) => r,
        Err(StoreError::NotFound | StoreError::Deleted) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if records.len() > MAX_BACKUP_VERSIONS {
        return Err(EngineError::Invalid(format!(
            "The certificate has more than {MAX_BACKUP_VERSIONS} versions and cannot be backed up."
        )));
    }
    let mut out = Vec::with_capacity(records.len());
    for record in &records {
        let meta: serde_json::Value = objects::open_meta(engine, vault, kind, name, record)?;
        let value = objects::open_field(
            engine,
            vault,
            kind,
            name,
            &record.version,
            value_field(kind),
            &record.value,
        )?;
        out.push(BackupVersion {
            attributes: ClearAttributes::of(record),
            value: SecretText::new(crate::b64url(value.expose())),
            meta,
        });
    }
    Ok(out)
}

/// A sealed backup of the certificate with every version of its key and secret and its policy.
pub async fn backup(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<String> {
    require_object(auth, Operation::CertificateBackup, &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, None).await?;
    let current = found.version.version.clone();
    let document = Backup {
        format: BACKUP_FORMAT,
        name: found.object.name.clone(),
        current,
        certificate: backup_versions_of(engine, &vault.name, KIND, name).await?,
        key: backup_versions_of(engine, &vault.name, ObjectKind::Key, name).await?,
        secret: backup_versions_of(engine, &vault.name, ObjectKind::Secret, name).await?,
        policy: stored::policy(engine, &vault.name, name).await?,
    };
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(&document).map_err(|_| EngineError::Internal)?);
    objects::seal_backup(engine, KIND, &json)
}

fn malformed() -> EngineError {
    EngineError::Invalid(objects::INVALID_BACKUP.into())
}

/// The record of a backed-up version, sealed for `vault`.
fn reseal(
    engine: &Engine,
    vault: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: &BackupVersion,
) -> EngineResult<VersionRecord> {
    VersionId::parse(&version.attributes.version).map_err(|_| malformed())?;
    let value = zeroize::Zeroizing::new(
        crate::b64url_decode(version.value.expose()).ok_or_else(malformed)?,
    );
    version.attributes.seal(
        engine,
        vault,
        kind,
        name,
        value_field(kind),
        &value,
        &version.meta,
    )
}

/// Restores a certificate backup into `vault`, under the name it was backed up with: every
/// version of the certificate, its key and secret, and its policy, in one batch. Refused when
/// any of the three names is in use.
pub async fn restore(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    blob: &str,
) -> EngineResult<CertificateView> {
    require_vault(auth, Operation::CertificateRestore, &vault.name)?;
    let plain = objects::open_backup(engine, KIND, blob)?;
    let document: Backup = serde_json::from_slice(plain.expose()).map_err(|_| malformed())?;
    if document.format != BACKUP_FORMAT
        || document.certificate.is_empty()
        || document.certificate.len() > MAX_BACKUP_VERSIONS
        || document.key.len() > MAX_BACKUP_VERSIONS
        || document.secret.len() > MAX_BACKUP_VERSIONS
        || !document
            .certificate
            .iter()
            .any(|v| v.attributes.version == document.current)
    {
        return Err(malformed());
    }
    let name = ObjectName::parse(&document.name).map_err(|_| malformed())?;
    let manager = address(&vault.name, &name);
    let mut batch = WriteBatch::new();
    // Refused (Conflict) when the certificate's name is in use, before anything is written.
    batch.push(BatchItem::CreatePending {
        address: manager.clone(),
        head: Vec::new(),
        managed_by: None,
    });
    for (kind, versions, managed_by) in [
        (KIND, &document.certificate, None),
        (ObjectKind::Key, &document.key, Some(manager.clone())),
        (ObjectKind::Secret, &document.secret, Some(manager.clone())),
    ] {
        // Oldest first, the backup's current version of the certificate last of its kind.
        let mut ordered: Vec<&BackupVersion> = versions.iter().collect();
        ordered.sort_by_key(|v| {
            (
                v.attributes.version == document.current,
                v.attributes.created,
            )
        });
        for version in ordered {
            let record = reseal(engine, &vault.name, kind, &name, version)?;
            batch.push(BatchItem::PutVersion {
                address: ObjectAddress::new(&vault.name, kind, name.as_str()),
                head: seal_head(
                    engine.keyring(),
                    &vault.name,
                    kind,
                    name.key(),
                    &record.version,
                )?,
                version: record,
                managed_by: managed_by.clone(),
            });
        }
    }
    if let Some(p) = &document.policy {
        batch.push(stored::policy_item(engine, &vault.name, &name, p)?);
    }
    match engine.store().write(&batch).await {
        Ok(_) => {}
        Err(StoreError::Conflict) | Err(StoreError::Deleted) => {
            return Err(EngineError::Conflict {
                kind: KIND,
                message: format!(
                    "Certificate {} (or a key or secret of its name) already exists or is deleted; restore requires an unused name.",
                    name.as_str()
                ),
            })
        }
        Err(StoreError::NotFound) => {
            return Err(EngineError::VaultNotFound {
                vault: vault.name.clone(),
            })
        }
        Err(StoreError::Invalid(_)) => return Err(malformed()),
        Err(e) => return Err(e.into()),
    }
    let found = objects::active(engine, &vault.name, KIND, &name, None).await?;
    let mut view = stored::view(engine, vault, &name, &found.object, &found.version, true)?;
    view.policy = document.policy.map(|p| p.policy);
    Ok(view)
}
