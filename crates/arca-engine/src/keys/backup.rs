//! Backup and restore of keys, with the secrets' discipline: every version in one blob sealed
//! for this deployment only (`objects::seal_backup`), restored all or nothing with the original
//! version ids. The private keys travel inside the sealed blob in their storage form
//! (`PrivateKey::to_storage`, base64url), wiped from memory when the document is dropped, and
//! each is parsed by the provider again before it is sealed into the vault.

use arca_core::limits::MAX_BACKUP_VERSIONS;
use arca_core::{ObjectName, Operation, VersionId};
use arca_crypto::keys::PrivateKey;
use arca_store::VaultRecord;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{open_private, view, Meta, KEY_FIELD, KIND};
use crate::objects::{self, ClearAttributes};
use crate::{Authorized, Engine, EngineError, EngineResult};

const FORMAT: u32 = 1;

/// The plaintext document inside a key backup blob.
#[derive(Serialize, Deserialize)]
struct Document {
    format: u32,
    name: String,
    current: String,
    versions: Vec<Version>,
}

/// One version: its clear attributes, its metadata and its private key.
#[derive(Serialize, Deserialize)]
struct Version {
    #[serde(flatten)]
    attributes: ClearAttributes,
    meta: Meta,
    /// `PrivateKey::to_storage`, base64url.
    key: String,
}

impl Drop for Version {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Returns the backup blob (base64url) holding every version of an active key.
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
        let stored = open_private(engine, &vault.name, name, r)?
            .to_storage()
            .map_err(super::key_error)?;
        versions.push(Version {
            attributes: ClearAttributes::of(r),
            meta,
            key: crate::b64url(stored.expose()),
        });
    }
    let document = Document {
        format: FORMAT,
        name: object.name.clone(),
        current: object.current_version.ok_or(EngineError::Internal)?,
        versions,
    };
    let plain = Zeroizing::new(serde_json::to_vec(&document).map_err(|_| EngineError::Internal)?);
    objects::seal_backup(engine, KIND, &plain)
}

/// Restores a key backup blob into `vault` with all versions and their original ids.
pub async fn restore(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    blob: &str,
) -> EngineResult<super::KeyView> {
    objects::require_vault(auth, Operation::KeyRestore, &vault.name)?;
    let invalid = || EngineError::Invalid(objects::INVALID_BACKUP.into());
    let plain = objects::open_backup(engine, KIND, blob)?;
    let document: Document = serde_json::from_slice(plain.expose()).map_err(|_| invalid())?;
    if document.format != FORMAT
        || document.versions.is_empty()
        || document.versions.len() > MAX_BACKUP_VERSIONS
    {
        return Err(invalid());
    }
    let name = ObjectName::parse(&document.name).map_err(|_| invalid())?;
    let mut records = Vec::with_capacity(document.versions.len());
    for v in &document.versions {
        VersionId::parse(&v.attributes.version).map_err(|_| invalid())?;
        let stored = Zeroizing::new(crate::b64url_decode(&v.key).ok_or_else(invalid)?);
        PrivateKey::from_storage(&stored).map_err(|_| invalid())?;
        let vault_name = &vault.name;
        let record = v
            .attributes
            .seal(engine, vault_name, KIND, &name, KEY_FIELD, &stored, &v.meta)?;
        records.push(record);
    }
    let (object, record) = objects::restore(
        engine,
        auth,
        vault,
        KIND,
        &name,
        &records,
        &document.current,
    )
    .await?;
    engine.key_cache().forget(&vault.name, name.key());
    view(engine, vault, &name, &object, &record)
}
