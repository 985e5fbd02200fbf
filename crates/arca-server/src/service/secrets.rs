//! Secret operations: set, get, update, list, delete, recover, purge, backup and restore.
//!
//! Values and metadata (content type, tags) are sealed per version with associated data binding
//! vault, kind, name and version, so storage never holds them in clear and a record moved to
//! another place fails to open. The metadata's associated data also binds the version's clear
//! attributes, and each object carries a sealed head naming its current version
//! (`crate::integrity`): both are verified before anything is served, and a version or object
//! that fails is refused (500 on a read, left out of a listing), never served.

use std::sync::Arc;

use arca_core::limits::MAX_BACKUP_VERSIONS;
use arca_core::{ObjectKind, ObjectName, VaultSettings, VersionId};
use arca_crypto::{record_aad, SecretString};
use arca_proto::secrets::Tags;
use arca_store::{
    Deletion, Listing, ObjectRecord, ObjectWithVersion, StoreError, VaultRecord, VersionRecord,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::{ApiError, ApiResult};
use crate::integrity;
use crate::state::AppState;

const KIND: ObjectKind = ObjectKind::Secret;

/// One secret version as the handlers see it.
#[derive(Debug)]
pub struct SecretView {
    /// The name as first spelled.
    pub name: String,
    pub version: String,
    pub created: i64,
    pub updated: i64,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub content_type: Option<String>,
    pub tags: Option<Tags>,
    /// Present only where the operation returns the value.
    pub value: Option<SecretString>,
    pub deleted: Option<Deletion>,
}

/// What a set request asks for, already validated.
#[derive(Debug)]
pub struct NewSecret {
    pub value: SecretString,
    pub content_type: Option<String>,
    pub tags: Option<Tags>,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

/// What an update request changes; `None` leaves a member as it is.
#[derive(Debug, Default)]
pub struct SecretPatch {
    pub content_type: Option<String>,
    pub tags: Option<Tags>,
    pub enabled: Option<bool>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

/// The sealed metadata document of a version.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Meta {
    #[serde(
        rename = "contentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

fn aad(vault: &str, name: &ObjectName, version: &str, field: &str) -> Vec<u8> {
    record_aad(vault, KIND.as_str(), name.key(), version, field)
}

fn new_version_id() -> ApiResult<VersionId> {
    Ok(VersionId::from_random(arca_crypto::random_bytes::<16>()?))
}

/// Seals `meta` for `record`, bound to the record's place and its clear attributes (which must
/// therefore be final).
fn seal_meta(
    state: &AppState,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
    meta: &Meta,
) -> ApiResult<Vec<u8>> {
    let json = serde_json::to_vec(meta).map_err(|_| ApiError::Internal)?;
    Ok(state
        .keyring
        .seal(&integrity::meta_aad(vault, KIND, name.key(), record), &json)?)
}

/// Opens a version's metadata, which verifies its clear attributes too; a version that fails is
/// reported and refused.
fn open_meta(
    state: &AppState,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> ApiResult<Meta> {
    let plain = state
        .keyring
        .open(
            &integrity::meta_aad(vault, KIND, name.key(), record),
            &record.meta,
        )
        .map_err(|_| {
            integrity::refused_object(vault, KIND, name.key(), &record.version, "attributes");
            ApiError::Internal
        })?;
    serde_json::from_slice(plain.expose()).map_err(|_| {
        tracing::error!(vault, version = %record.version, "secret metadata does not parse");
        ApiError::Internal
    })
}

fn open_value(
    state: &AppState,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> ApiResult<SecretString> {
    state
        .keyring
        .open(&aad(vault, name, &record.version, "value"), &record.value)?
        .into_utf8()
        .ok_or(ApiError::Internal)
}

fn view(
    state: &AppState,
    vault: &str,
    name: &ObjectName,
    object: &ObjectRecord,
    record: &VersionRecord,
    with_value: bool,
) -> ApiResult<SecretView> {
    let meta = open_meta(state, vault, name, record)?;
    let value = if with_value {
        Some(open_value(state, vault, name, record)?)
    } else {
        None
    };
    Ok(SecretView {
        name: object.name.clone(),
        version: record.version.clone(),
        created: record.created,
        updated: record.updated,
        enabled: record.enabled,
        nbf: record.nbf,
        exp: record.exp,
        content_type: meta.content_type,
        tags: meta.tags,
        value,
        deleted: object.deleted,
    })
}

fn name_from_store(object: &ObjectRecord) -> ApiResult<ObjectName> {
    ObjectName::parse(&object.name).map_err(|_| {
        tracing::error!("stored object name is invalid");
        ApiError::Internal
    })
}

pub async fn set(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    new: NewSecret,
) -> ApiResult<SecretView> {
    let now = state.clock.now();
    let version = new_version_id()?;
    let meta = Meta {
        content_type: new.content_type,
        tags: new.tags,
    };
    let mut record = VersionRecord {
        version: version.to_string(),
        created: now,
        updated: now,
        enabled: new.enabled,
        nbf: new.nbf,
        exp: new.exp,
        meta: Vec::new(),
        value: state.keyring.seal(
            &aad(&vault.name, name, version.as_str(), "value"),
            new.value.expose().as_bytes(),
        )?,
    };
    record.meta = seal_meta(state, &vault.name, name, &record, &meta)?;
    let head = integrity::seal_head(
        &state.keyring,
        &vault.name,
        KIND,
        name.key(),
        &record.version,
    )?;
    let object = match state
        .store
        .put_version(&vault.name, KIND, name.as_str(), &record, &head)
        .await
    {
        Ok(o) => o,
        Err(StoreError::Deleted) => return Err(ApiError::deleted_but_recoverable(name.as_str())),
        Err(StoreError::NotFound) => return Err(ApiError::VaultNotFound(vault.name.clone())),
        Err(e) => return Err(e.into()),
    };
    Ok(SecretView {
        name: object.name,
        version: record.version,
        created: now,
        updated: now,
        enabled: record.enabled,
        nbf: record.nbf,
        exp: record.exp,
        content_type: meta.content_type,
        tags: meta.tags,
        value: Some(new.value),
        deleted: None,
    })
}

/// Reads an active version; `None` = current. Deleted objects are invisible here.
/// The version `version` (default: the current one) of an active secret, as the store shares it.
async fn active_shared(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> ApiResult<Arc<ObjectWithVersion>> {
    let found = state
        .store
        .version_shared(
            &vault.name,
            KIND,
            name.as_str(),
            version.map(VersionId::as_str),
        )
        .await?;
    match found {
        Some(f) if f.object.deleted.is_none() => {
            if version.is_none() {
                verify_head(state, &vault.name, name, &f.object)?;
            }
            Ok(f)
        }
        _ => Err(ApiError::SecretNotFound(name.as_str().to_owned())),
    }
}

/// Refuses an object whose head does not prove its current version (one small AES-GCM open).
fn verify_head(
    state: &AppState,
    vault: &str,
    name: &ObjectName,
    object: &ObjectRecord,
) -> ApiResult<()> {
    if integrity::head_is_valid(&state.keyring, vault, KIND, name.key(), object) {
        Ok(())
    } else {
        Err(ApiError::Internal)
    }
}

/// [`active_shared`], as an owned copy to change.
async fn active_version(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> ApiResult<(ObjectRecord, VersionRecord)> {
    let found = Arc::unwrap_or_clone(active_shared(state, vault, name, version).await?);
    Ok((found.object, found.version))
}

pub async fn get(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> ApiResult<SecretView> {
    let found = active_shared(state, vault, name, version).await?;
    if !found.version.enabled {
        return Err(ApiError::disabled_secret());
    }
    view(
        state,
        &vault.name,
        name,
        &found.object,
        &found.version,
        true,
    )
}

pub async fn update(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
    patch: SecretPatch,
) -> ApiResult<SecretView> {
    let (object, mut record) = active_version(state, vault, name, version).await?;
    let mut meta = open_meta(state, &vault.name, name, &record)?;
    if patch.content_type.is_some() {
        meta.content_type = patch.content_type;
    }
    if patch.tags.is_some() {
        meta.tags = patch.tags;
    }
    record.enabled = patch.enabled.unwrap_or(record.enabled);
    record.nbf = patch.nbf.or(record.nbf);
    record.exp = patch.exp.or(record.exp);
    record.updated = state.clock.now();
    record.meta = seal_meta(state, &vault.name, name, &record, &meta)?;
    match state
        .store
        .update_version(&vault.name, KIND, name.as_str(), &record)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound | StoreError::Deleted) => {
            return Err(ApiError::SecretNotFound(name.as_str().to_owned()))
        }
        Err(e) => return Err(e.into()),
    }
    // Key Vault's update answer never carries the value: a caller holding only
    // `secrets/update/action` must not read values through it.
    view(state, &vault.name, name, &object, &record, false)
}

/// One page of a listing and the cursor of the next page, if any.
pub struct Page {
    pub items: Vec<SecretView>,
    pub next: Option<String>,
}

pub async fn list(
    state: &AppState,
    vault: &VaultRecord,
    which: Listing,
    after: Option<&str>,
    limit: usize,
) -> ApiResult<Page> {
    let mut rows = state
        .store
        .list_objects(&vault.name, KIND, which, after, limit + 1)
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| r.object.name.to_ascii_lowercase())
    } else {
        None
    };
    // An entry that fails verification is left out (and reported), so that one altered row
    // does not take the whole listing down; reading it directly answers 500.
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let name = name_from_store(&r.object)?;
        if !integrity::head_is_valid(&state.keyring, &vault.name, KIND, name.key(), &r.object) {
            continue;
        }
        match view(state, &vault.name, &name, &r.object, &r.version, false) {
            Ok(item) => items.push(item),
            Err(ApiError::Internal) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Page { items, next })
}

pub async fn list_versions(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
    after: Option<&str>,
    limit: usize,
) -> ApiResult<Page> {
    // A name with no active versions (never created, purged, or soft-deleted) has an empty
    // listing, as in Key Vault: a listing is a query, not a lookup of one object. A deleted
    // secret's versions are as invisible here as they are to a get.
    let empty = || Page {
        items: Vec::new(),
        next: None,
    };
    let object = match state
        .store
        .version(&vault.name, KIND, name.as_str(), None)
        .await?
    {
        Some(f) if f.object.deleted.is_none() => f.object,
        _ => return Ok(empty()),
    };
    let mut rows = match state
        .store
        .list_versions(&vault.name, KIND, name.as_str(), after, limit + 1)
        .await
    {
        Ok(rows) => rows,
        Err(StoreError::NotFound | StoreError::Deleted) => return Ok(empty()),
        Err(e) => return Err(e.into()),
    };
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| r.version.clone())
    } else {
        None
    };
    // As in `list`: a version that fails verification is left out (and reported).
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        match view(state, &vault.name, name, &object, r, false) {
            Ok(item) => items.push(item),
            Err(ApiError::Internal) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Page { items, next })
}

pub async fn delete(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
) -> ApiResult<SecretView> {
    let settings = settings_of(vault);
    let now = state.clock.now();
    let deletion = Deletion {
        deleted_at: now,
        scheduled_purge: settings.scheduled_purge(now),
    };
    match state
        .store
        .delete_object(&vault.name, KIND, name.as_str(), deletion)
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound | StoreError::Deleted) => {
            return Err(ApiError::SecretNotFound(name.as_str().to_owned()))
        }
        Err(e) => return Err(e.into()),
    }
    get_deleted(state, vault, name).await
}

pub async fn get_deleted(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
) -> ApiResult<SecretView> {
    match state
        .store
        .version(&vault.name, KIND, name.as_str(), None)
        .await?
    {
        Some(f) if f.object.deleted.is_some() => {
            verify_head(state, &vault.name, name, &f.object)?;
            view(state, &vault.name, name, &f.object, &f.version, false)
        }
        _ => Err(ApiError::DeletedSecretNotFound(name.as_str().to_owned())),
    }
}

pub async fn recover(
    state: &AppState,
    vault: &VaultRecord,
    name: &ObjectName,
) -> ApiResult<SecretView> {
    match state
        .store
        .recover_object(&vault.name, KIND, name.as_str())
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::DeletedSecretNotFound(name.as_str().to_owned()))
        }
        Err(e) => return Err(e.into()),
    }
    let (object, record) = active_version(state, vault, name, None).await?;
    view(state, &vault.name, name, &object, &record, false)
}

pub async fn purge(state: &AppState, vault: &VaultRecord, name: &ObjectName) -> ApiResult<()> {
    let found = state
        .store
        .version(&vault.name, KIND, name.as_str(), None)
        .await?;
    let Some(deletion) = found.and_then(|f| f.object.deleted) else {
        return Err(ApiError::DeletedSecretNotFound(name.as_str().to_owned()));
    };
    if vault.purge_protection && state.clock.now() < deletion.scheduled_purge {
        return Err(ApiError::Forbidden {
            message: "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.".into(),
            inner: None,
        });
    }
    match state
        .store
        .purge_object(&vault.name, KIND, name.as_str())
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(ApiError::DeletedSecretNotFound(name.as_str().to_owned())),
        Err(e) => Err(e.into()),
    }
}

pub fn settings_of(vault: &VaultRecord) -> VaultSettings {
    VaultSettings {
        retention_days: vault.retention_days,
        purge_protection: vault.purge_protection,
    }
}

// ---- backup and restore ----

/// The plaintext document inside a backup blob. Values are wiped from memory on drop.
#[derive(Serialize, Deserialize)]
pub(crate) struct Backup {
    format: u32,
    name: String,
    current: String,
    versions: Vec<BackupVersion>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct BackupVersion {
    version: String,
    created: i64,
    updated: i64,
    enabled: bool,
    nbf: Option<i64>,
    exp: Option<i64>,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
    tags: Option<Tags>,
    value: String,
}

impl Drop for BackupVersion {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

const BACKUP_FORMAT: u32 = 1;

/// Returns the backup blob (base64url) holding every version of an active secret.
pub async fn backup(state: &AppState, vault: &VaultRecord, name: &ObjectName) -> ApiResult<String> {
    let (object, _) = active_version(state, vault, name, None).await?;
    let records = match state
        .store
        .list_versions(
            &vault.name,
            KIND,
            name.as_str(),
            None,
            MAX_BACKUP_VERSIONS + 1,
        )
        .await
    {
        Ok(r) => r,
        Err(StoreError::NotFound | StoreError::Deleted) => {
            return Err(ApiError::SecretNotFound(name.as_str().to_owned()))
        }
        Err(e) => return Err(e.into()),
    };
    if records.len() > MAX_BACKUP_VERSIONS {
        return Err(ApiError::BadParameter(format!(
            "The secret has more than {MAX_BACKUP_VERSIONS} versions and cannot be backed up."
        )));
    }
    let mut versions = Vec::with_capacity(records.len());
    for r in &records {
        let meta = open_meta(state, &vault.name, name, r)?;
        let value = open_value(state, &vault.name, name, r)?;
        versions.push(BackupVersion {
            version: r.version.clone(),
            created: r.created,
            updated: r.updated,
            enabled: r.enabled,
            nbf: r.nbf,
            exp: r.exp,
            content_type: meta.content_type,
            tags: meta.tags,
            value: value.expose().to_owned(),
        });
    }
    let doc = Backup {
        format: BACKUP_FORMAT,
        name: object.name.clone(),
        current: object.current_version.clone(),
        versions,
    };
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&doc).map_err(|_| ApiError::Internal)?);
    let sealed = state.keyring.seal_backup(KIND.as_str(), &plain)?;
    Ok(crate::b64url(&sealed))
}

/// Restores a backup blob into `vault` with all versions and their original ids.
pub async fn restore(state: &AppState, vault: &VaultRecord, blob: &str) -> ApiResult<SecretView> {
    let invalid = || {
        ApiError::BadParameter(
            "The backup blob is malformed or was not made by this deployment.".into(),
        )
    };
    let sealed = crate::b64url_decode(blob).ok_or_else(invalid)?;
    let plain = state
        .keyring
        .open_backup(KIND.as_str(), &sealed)
        .map_err(|_| invalid())?;
    let doc: Backup = serde_json::from_slice(plain.expose()).map_err(|_| invalid())?;
    if doc.format != BACKUP_FORMAT
        || doc.versions.is_empty()
        || doc.versions.len() > MAX_BACKUP_VERSIONS
    {
        return Err(invalid());
    }
    let name = ObjectName::parse(&doc.name).map_err(|_| invalid())?;
    let mut records = Vec::with_capacity(doc.versions.len());
    for v in &doc.versions {
        VersionId::parse(&v.version).map_err(|_| invalid())?;
        let meta = Meta {
            content_type: v.content_type.clone(),
            tags: v.tags.clone(),
        };
        let mut record = VersionRecord {
            version: v.version.clone(),
            created: v.created,
            updated: v.updated,
            enabled: v.enabled,
            nbf: v.nbf,
            exp: v.exp,
            meta: Vec::new(),
            value: state.keyring.seal(
                &aad(&vault.name, &name, &v.version, "value"),
                v.value.as_bytes(),
            )?,
        };
        record.meta = seal_meta(state, &vault.name, &name, &record, &meta)?;
        records.push(record);
    }
    let head = integrity::seal_head(&state.keyring, &vault.name, KIND, name.key(), &doc.current)?;
    match state
        .store
        .restore_object(
            &vault.name,
            KIND,
            name.as_str(),
            &records,
            &doc.current,
            &head,
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            let existing = state
                .store
                .version(&vault.name, KIND, name.as_str(), None)
                .await?;
            return Err(match existing {
                Some(f) if f.object.deleted.is_some() => {
                    ApiError::deleted_but_recoverable(name.as_str())
                }
                _ => ApiError::Conflict {
                    message: format!(
                        "Secret {} already exists; restore requires an unused name.",
                        name.as_str()
                    ),
                    inner: None,
                },
            });
        }
        Err(StoreError::Corrupt(_)) => return Err(invalid()),
        Err(StoreError::NotFound) => return Err(ApiError::VaultNotFound(vault.name.clone())),
        Err(e) => return Err(e.into()),
    }
    let (object, record) = active_version(state, vault, &name, None).await?;
    view(state, &vault.name, &name, &object, &record, false)
}
