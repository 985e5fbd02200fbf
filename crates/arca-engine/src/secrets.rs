//! Secrets on the shared object lifecycle: set, get, update, list, versions, delete, recover,
//! purge, backup and restore.
//!
//! Values and metadata (content type, tags) are sealed per version with associated data binding
//! vault, kind, name and version, so storage never holds them in clear and a record moved to
//! another place fails to open. The metadata's associated data also binds the version's clear
//! attributes, and each object carries a sealed head naming its current version
//! (`crate::integrity`): both are verified before anything is served, and a version or object
//! that fails is refused (an internal error on a read, left out of a listing), never served.

use arca_core::limits::MAX_BACKUP_VERSIONS;
use arca_core::{ObjectKind, ObjectName, Operation, VersionId};
use arca_crypto::SecretString;
use arca_proto::secrets::Tags;
use arca_store::{Deletion, Listing, ObjectRecord, VaultRecord, VersionRecord};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::objects::{self, require_object, Page};
use crate::{Authorized, Engine, EngineError, EngineResult};

const KIND: ObjectKind = ObjectKind::Secret;

/// One secret version as operations return it.
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
    /// Whether a certificate manages the secret (it is the certificate's chain and key).
    pub managed: bool,
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

fn open_value(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<SecretString> {
    objects::open_field(
        engine,
        vault,
        KIND,
        name,
        &record.version,
        "value",
        &record.value,
    )?
    .into_utf8()
    .ok_or(EngineError::Internal)
}

fn view(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    object: &ObjectRecord,
    record: &VersionRecord,
    with_value: bool,
) -> EngineResult<SecretView> {
    let meta: Meta = objects::open_meta(engine, vault, KIND, name, record)?;
    let value = if with_value {
        Some(open_value(engine, vault, name, record)?)
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
        managed: object.managed_by.is_some(),
        deleted: object.deleted,
    })
}

/// Views of `rows`, leaving out (as reported by `open_meta`) versions that fail verification.
fn views<'r>(
    engine: &Engine,
    vault: &str,
    rows: impl Iterator<Item = (&'r ObjectName, &'r ObjectRecord, &'r VersionRecord)>,
) -> EngineResult<Vec<SecretView>> {
    let mut items = Vec::new();
    for (name, object, record) in rows {
        match view(engine, vault, name, object, record, false) {
            Ok(item) => items.push(item),
            Err(EngineError::Internal) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(items)
}

/// The secret version record of a certificate's secret (`certificates`): `value` (the chain,
/// with the private key when exportable, as PFX base64 or PEM) sealed under the certificate
/// version's `attributes`, with the policy's content type.
pub(crate) fn certificate_secret_record(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    attributes: &objects::ClearAttributes,
    value: &str,
    content_type: &str,
) -> EngineResult<VersionRecord> {
    let meta = Meta {
        content_type: Some(content_type.to_owned()),
        tags: None,
    };
    attributes.seal(engine, vault, KIND, name, "value", value.as_bytes(), &meta)
}

/// What an `outContentType` other than the secret's own asks for that cannot be done.
pub const CONVERSION_REFUSED: &str = "Only PFX to PEM transformation is supported";

/// A certificate's secret with its value as `requested` (`outContentType`): a PFX
/// (`application/x-pkcs12`) becomes PEM (`application/x-pem-file`): the private key (PKCS#8),
/// if the PFX has one, then the chain. Asking for the secret's own type changes nothing; any
/// other conversion, and any conversion of a secret no certificate manages, is refused.
pub fn converted(mut view: SecretView, requested: &str) -> EngineResult<SecretView> {
    use crate::certificates::policy::{PEM, PKCS12};
    let refused = || EngineError::Invalid(CONVERSION_REFUSED.to_owned());
    let own = view.content_type.as_deref().unwrap_or_default();
    if !view.managed {
        return Err(refused());
    }
    if requested.eq_ignore_ascii_case(own) {
        return Ok(view);
    }
    if !(requested.eq_ignore_ascii_case(PEM) && own.eq_ignore_ascii_case(PKCS12)) {
        return Err(refused());
    }
    let Some(value) = view.value.take() else {
        return Err(refused());
    };
    let pfx = zeroize::Zeroizing::new(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value.expose())
            .map_err(|_| EngineError::Internal)?,
    );
    let contents =
        arca_crypto::pki::certs::parse_pfx(&pfx, None).map_err(|_| EngineError::Internal)?;
    let chain: Vec<Vec<u8>> = contents.chain.into_iter().map(|c| c.der).collect();
    let pem = arca_crypto::pki::certs::build_pem_secret(contents.key.as_ref(), &chain)
        .map_err(|_| EngineError::Internal)?;
    view.value = Some(pem);
    view.content_type = Some(PEM.to_owned());
    Ok(view)
}

/// Writes a new version of the secret `name` and makes it current.
pub async fn set(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    new: NewSecret,
) -> EngineResult<SecretView> {
    require_object(auth, Operation::SecretSet, &vault.name, name)?;
    let now = engine.now();
    let version = objects::new_version_id()?;
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
        value: objects::seal_field(
            engine,
            &vault.name,
            KIND,
            name,
            version.as_str(),
            "value",
            new.value.expose().as_bytes(),
        )?,
    };
    record.meta = objects::seal_meta(engine, &vault.name, KIND, name, &record, &meta)?;
    let object = objects::put_version(engine, &vault.name, KIND, name, &record).await?;
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
        managed: false,
        deleted: None,
    })
}

/// A version (default: the current one) of an active secret, with its value; refused when the
/// version is disabled.
pub async fn get(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> EngineResult<SecretView> {
    require_object(auth, Operation::SecretGet, &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, version).await?;
    if !found.version.enabled {
        return Err(EngineError::Disabled {
            kind: KIND,
            operation: "get",
        });
    }
    view(
        engine,
        &vault.name,
        name,
        &found.object,
        &found.version,
        true,
    )
}

/// Changes a version's attributes, content type or tags; the answer never carries the value.
pub async fn update(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
    patch: SecretPatch,
) -> EngineResult<SecretView> {
    require_object(auth, Operation::SecretUpdate, &vault.name, name)?;
    let (object, mut record) =
        objects::active_owned(engine, &vault.name, KIND, name, version).await?;
    objects::refuse_managed(KIND, &object, "update")?;
    let mut meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, &record)?;
    if patch.content_type.is_some() {
        meta.content_type = patch.content_type;
    }
    if patch.tags.is_some() {
        meta.tags = patch.tags;
    }
    record.enabled = patch.enabled.unwrap_or(record.enabled);
    record.nbf = patch.nbf.or(record.nbf);
    record.exp = patch.exp.or(record.exp);
    record.updated = engine.now();
    record.meta = objects::seal_meta(engine, &vault.name, KIND, name, &record, &meta)?;
    objects::update_version(engine, &vault.name, KIND, name, &record).await?;
    // Key Vault's update answer never carries the value: a caller holding only
    // `secrets/update/action` must not read values through it.
    view(engine, &vault.name, name, &object, &record, false)
}

/// One page of the vault's active (or deleted) secrets, without values.
pub async fn list(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    which: Listing,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<SecretView>> {
    let page = objects::list(engine, auth, vault, KIND, which, after, limit).await?;
    let items = views(
        engine,
        &vault.name,
        page.items.iter().map(|(n, r)| (n, &r.object, &r.version)),
    )?;
    Ok(Page {
        items,
        next: page.next,
    })
}

/// One page of an active secret's versions, without values.
pub async fn list_versions(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<SecretView>> {
    let (object, page) =
        objects::list_versions(engine, auth, vault, KIND, name, after, limit).await?;
    let Some(object) = object else {
        return Ok(page_of(Vec::new(), page.next));
    };
    let items = views(
        engine,
        &vault.name,
        page.items.iter().map(|r| (name, &object, r)),
    )?;
    Ok(page_of(items, page.next))
}

fn page_of(items: Vec<SecretView>, next: Option<String>) -> Page<SecretView> {
    Page { items, next }
}

/// Soft-deletes a secret; returns it in its deleted state.
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<SecretView> {
    let f = objects::delete(engine, auth, vault, KIND, name).await?;
    view(engine, &vault.name, name, &f.object, &f.version, false)
}

pub async fn get_deleted(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<SecretView> {
    let f = objects::get_deleted(engine, auth, vault, KIND, name).await?;
    view(engine, &vault.name, name, &f.object, &f.version, false)
}

pub async fn recover(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<SecretView> {
    let (object, record) = objects::recover(engine, auth, vault, KIND, name).await?;
    view(engine, &vault.name, name, &object, &record, false)
}

pub async fn purge(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<()> {
    objects::purge(engine, auth, vault, KIND, name).await
}

// ---- backup and restore ----

/// The plaintext document inside a backup blob. Values are wiped from memory on drop.
#[derive(Serialize, Deserialize)]
struct Backup {
    format: u32,
    name: String,
    current: String,
    versions: Vec<BackupVersion>,
}

#[derive(Serialize, Deserialize)]
struct BackupVersion {
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

/// Parses the plaintext of a secret backup as [`restore`] does once the blob has opened, and
/// writes it again; `None` when restore would refuse it as malformed. A fuzzing entry point: the
/// document written again must parse to the same document.
#[doc(hidden)]
pub fn reparse_backup_document(plain: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let document: Backup = serde_json::from_slice(plain).ok()?;
    serde_json::to_vec(&document)
        .ok()
        .map(zeroize::Zeroizing::new)
}

/// Returns the backup blob (base64url) holding every version of an active secret.
pub async fn backup(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<String> {
    let (object, records) = objects::backup_versions(engine, auth, vault, KIND, name).await?;
    let mut versions = Vec::with_capacity(records.len());
    for r in &records {
        let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, r)?;
        let value = open_value(engine, &vault.name, name, r)?;
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
        current: object
            .current_version
            .clone()
            .ok_or(EngineError::Internal)?,
        versions,
    };
    let plain =
        zeroize::Zeroizing::new(serde_json::to_vec(&doc).map_err(|_| EngineError::Internal)?);
    objects::seal_backup(engine, KIND, &plain)
}

/// Restores a backup blob into `vault` with all versions and their original ids.
pub async fn restore(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    blob: &str,
) -> EngineResult<SecretView> {
    objects::require_vault(auth, Operation::SecretRestore, &vault.name)?;
    let invalid = || EngineError::Invalid(objects::INVALID_BACKUP.into());
    let plain = objects::open_backup(engine, KIND, blob)?;
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
            value: objects::seal_field(
                engine,
                &vault.name,
                KIND,
                &name,
                &v.version,
                "value",
                v.value.as_bytes(),
            )?,
        };
        record.meta = objects::seal_meta(engine, &vault.name, KIND, &name, &record, &meta)?;
        records.push(record);
    }
    let (object, record) =
        objects::restore(engine, auth, vault, KIND, &name, &records, &doc.current).await?;
    view(engine, &vault.name, &name, &object, &record, false)
}
