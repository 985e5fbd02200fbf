//! Deployment metadata: small named blobs (the sealed root key, the keyring, flags) written once
//! at initialisation or replaced whole.

use async_trait::async_trait;

use crate::StoreResult;

/// Named blobs of deployment metadata. Keys are compared exactly.
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// The bytes stored under `key`, or `None`.
    async fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` under `key` only if the key is absent. Returns `true` if it stored, `false`
    /// if a value was already there (which is left unchanged). Used for one-time initialisation
    /// that several replicas may race to perform.
    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> StoreResult<bool>;

    /// Stores `value` under `key`, replacing any previous value.
    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()>;
}
