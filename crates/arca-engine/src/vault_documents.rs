//! Typed, sealed documents owned by a vault: a vault's certificate contacts and issuers, the
//! attestation issuers it trusts. Each kind of document is a [`VaultDocuments`] naming its
//! store document kind; a document is JSON sealed with associated data that binds the vault,
//! the kind and the document's id, so a database writer can neither forge one nor move it to
//! another vault or id. A document goes with its vault.
//!
//! Callers check their proof (or, for administration, their caller) before using these.

use arca_crypto::record_aad;
use arca_store::{BatchItem, DocumentOwner, DocumentRecord, StoreError, WriteBatch};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Engine, EngineError, EngineResult};

/// One kind of vault document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VaultDocuments {
    /// The store's document kind.
    pub kind: &'static str,
    /// The field the sealing binds, with the vault and the id.
    pub field: &'static str,
}

fn owner(vault: &str) -> DocumentOwner {
    DocumentOwner::Vault(vault.to_owned())
}

pub(crate) fn vault_not_found(vault: &str) -> EngineError {
    EngineError::VaultNotFound {
        vault: vault.to_owned(),
    }
}

impl VaultDocuments {
    fn aad(&self, vault: &str, id: &str) -> Vec<u8> {
        record_aad(vault, "vault", id, "", self.field)
    }

    fn open<T: DeserializeOwned>(
        &self,
        engine: &Engine,
        vault: &str,
        d: &DocumentRecord,
    ) -> EngineResult<T> {
        let plain = engine
            .keyring()
            .open(&self.aad(vault, &d.id), &d.data)
            .map_err(|_| {
                crate::integrity::refused_record(self.kind, &d.id);
                EngineError::Internal
            })?;
        serde_json::from_slice(plain.expose()).map_err(|_| {
            tracing::error!(
                vault,
                kind = self.kind,
                "a stored vault document does not parse"
            );
            EngineError::Internal
        })
    }

    /// The document `id` of `vault`, if there is one.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        engine: &Engine,
        vault: &str,
        id: &str,
    ) -> EngineResult<Option<T>> {
        let found = engine
            .store()
            .document(&owner(vault), self.kind, id)
            .await?;
        found.map(|d| self.open(engine, vault, &d)).transpose()
    }

    /// Every document of this kind of `vault`, with its id, ordered by id.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        engine: &Engine,
        vault: &str,
    ) -> EngineResult<Vec<(String, T)>> {
        let documents = engine
            .store()
            .list_documents(&owner(vault), self.kind)
            .await?;
        documents
            .iter()
            .map(|d| Ok((d.id.clone(), self.open(engine, vault, d)?)))
            .collect()
    }

    /// How many documents of this kind `vault` has.
    pub(crate) async fn count(&self, engine: &Engine, vault: &str) -> EngineResult<usize> {
        Ok(engine
            .store()
            .list_documents(&owner(vault), self.kind)
            .await?
            .len())
    }

    /// The batch item that writes (adds or replaces) the document `id` of `vault`, for a batch
    /// that changes other things with it.
    pub(crate) fn put_item<T: Serialize>(
        &self,
        engine: &Engine,
        vault: &str,
        id: &str,
        value: &T,
    ) -> EngineResult<BatchItem> {
        let json =
            zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|_| EngineError::Internal)?);
        let data = engine.keyring().seal(&self.aad(vault, id), &json)?;
        Ok(BatchItem::PutDocument(DocumentRecord {
            owner: owner(vault),
            kind: self.kind.to_owned(),
            id: id.to_owned(),
            data,
        }))
    }

    /// The batch item that deletes the document `id` of `vault`.
    pub(crate) fn delete_item(&self, vault: &str, id: &str) -> BatchItem {
        BatchItem::DeleteDocument {
            owner: owner(vault),
            kind: self.kind.to_owned(),
            id: id.to_owned(),
        }
    }

    /// Writes (adds or replaces) the document `id` of `vault`.
    pub(crate) async fn put<T: Serialize>(
        &self,
        engine: &Engine,
        vault: &str,
        id: &str,
        value: &T,
    ) -> EngineResult<()> {
        let mut batch = WriteBatch::new();
        batch.push(self.put_item(engine, vault, id, value)?);
        match engine.store().write(&batch).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(vault_not_found(vault)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the document `id` of `vault`; `false` when there was none.
    pub(crate) async fn delete(
        &self,
        engine: &Engine,
        vault: &str,
        id: &str,
    ) -> EngineResult<bool> {
        let mut batch = WriteBatch::new();
        batch.push(self.delete_item(vault, id));
        match engine.store().write(&batch).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
