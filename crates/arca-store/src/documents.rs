//! Sealed documents scoped to an object or a vault (a rotation policy, a certificate policy, a
//! pending operation, issuers, contacts...): opaque blobs owned by the server, addressed by
//! owner, kind and id, that live and die with their owner.
//!
//! An object's documents stay through its soft-delete and recovery (and stay readable while it
//! is deleted) and are purged with it; a vault's documents, and those of its objects, go with
//! the vault. Documents are written only through a [`crate::WriteBatch`]
//! ([`crate::BatchItem::PutDocument`], [`crate::BatchItem::DeleteDocument`]), so they can change
//! atomically with the objects they describe.

use async_trait::async_trait;

use arca_core::ObjectAddress;

use crate::{StoreError, StoreResult};

/// The longest [`DocumentRecord::kind`], in bytes of UTF-8.
pub const DOCUMENT_KIND_MAX: usize = 64;
/// The longest [`DocumentRecord::id`], in bytes of UTF-8.
pub const DOCUMENT_ID_MAX: usize = 512;
/// The largest [`DocumentRecord::data`], in bytes (1 MiB).
pub const DOCUMENT_DATA_MAX: usize = 1 << 20;

/// What a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentOwner {
    /// An object (its name compared ignoring ASCII case, as object names are).
    Object(ObjectAddress),
    /// A vault, by its lower-case name.
    Vault(String),
}

/// A document. `kind` and `id` are compared exactly and may be any UTF-8 string of at most
/// [`DOCUMENT_KIND_MAX`] and [`DOCUMENT_ID_MAX`] bytes; `data` is at most [`DOCUMENT_DATA_MAX`]
/// bytes. Every method and batch given a longer one fails with [`StoreError::Invalid`] before
/// reading or changing anything.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub owner: DocumentOwner,
    pub kind: String,
    pub id: String,
    pub data: Vec<u8>,
}

impl DocumentRecord {
    /// `Invalid` unless `kind`, `id` and `data` are within the limits above.
    pub fn check_limits(&self) -> StoreResult<()> {
        check_document_key(&self.kind, &self.id)?;
        if self.data.len() > DOCUMENT_DATA_MAX {
            return Err(StoreError::Invalid(format!(
                "document data is larger than {DOCUMENT_DATA_MAX} bytes"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for DocumentRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentRecord")
            .field("owner", &self.owner)
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .finish()
    }
}

/// `Invalid` unless `kind` and `id` are within the document limits. The message names the
/// limit, never the value.
pub fn check_document_key(kind: &str, id: &str) -> StoreResult<()> {
    if kind.len() > DOCUMENT_KIND_MAX {
        return Err(StoreError::Invalid(format!(
            "document kind is longer than {DOCUMENT_KIND_MAX} bytes"
        )));
    }
    if id.len() > DOCUMENT_ID_MAX {
        return Err(StoreError::Invalid(format!(
            "document id is longer than {DOCUMENT_ID_MAX} bytes"
        )));
    }
    Ok(())
}

/// Reading documents (writing them is a [`crate::WriteBatch`]'s business).
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// The document `(owner, kind, id)` whatever the owner's state, or `None` (also when the
    /// owner does not exist).
    async fn document(
        &self,
        owner: &DocumentOwner,
        kind: &str,
        id: &str,
    ) -> StoreResult<Option<DocumentRecord>>;

    /// The owner's documents of exactly this kind, ordered by id in byte order; empty if there
    /// are none or the owner does not exist.
    async fn list_documents(
        &self,
        owner: &DocumentOwner,
        kind: &str,
    ) -> StoreResult<Vec<DocumentRecord>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_debug_hides_data_and_limits_name_no_value() {
        let record = DocumentRecord {
            owner: DocumentOwner::Vault("v".into()),
            kind: "policy".into(),
            id: "x".into(),
            data: b"top-secret".to_vec(),
        };
        assert!(!format!("{record:?}").contains("top-secret"));
        let long = DocumentRecord {
            id: "secret-id".repeat(60),
            ..record.clone()
        };
        let message = long.check_limits().unwrap_err().to_string();
        assert!(message.contains("512") && !message.contains("secret-id"));
        let big = DocumentRecord {
            data: vec![0; DOCUMENT_DATA_MAX + 1],
            ..record
        };
        assert!(matches!(big.check_limits(), Err(StoreError::Invalid(_))));
    }
}
