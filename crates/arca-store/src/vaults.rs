//! Vaults: the containers of objects, created and deleted whole.

use async_trait::async_trait;

use crate::StoreResult;

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

/// Vaults.
#[async_trait]
pub trait VaultStore: Send + Sync {
    /// Creates a vault. `Conflict` if a vault of that name exists.
    async fn create_vault(&self, vault: &VaultRecord) -> StoreResult<()>;

    /// The vault named `name`, or `None`.
    async fn vault(&self, name: &str) -> StoreResult<Option<VaultRecord>>;

    /// All vaults, ordered by name.
    async fn list_vaults(&self) -> StoreResult<Vec<VaultRecord>>;

    /// Deletes a vault and everything in it: every object (active, deleted or pending) with its
    /// versions and documents, and the vault's own documents. `NotFound` if there is no such
    /// vault. Principals, access-control documents, outbox rows and leases are not touched (nor is
    /// the access generation), even those that concern the vault.
    async fn delete_vault(&self, name: &str) -> StoreResult<()>;
}
