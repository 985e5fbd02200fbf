//! The storage contract of Arca: small traits by capability ([`MetaStore`], [`VaultStore`],
//! [`AccessStore`], [`ObjectStore`] with [`WriteBatch`], [`DocumentStore`], [`OutboxStore`],
//! [`LeaseStore`]) composed into [`Store`], whose doc comments are the exact semantics, and
//! [`CachedStore`], the in-memory cache of current versions for the embedded backend. The
//! conformance suite every backend must pass, and an in-memory reference store, live in the
//! `arca-store-tests` crate (a dev-dependency of each backend).
//!
//! Storage never sees plaintext: object values, metadata and documents arrive already sealed
//! (`arca-crypto`), and principals carry only slow hashes of their secrets. A backend persists
//! bytes and enforces the lifecycle rules stated here atomically; it knows nothing of HTTP,
//! crypto or authorization.
//!
//! Durability: every method that changes state returns only after the change is durable (on disk
//! for an embedded backend, committed for a database). Each such method, and each
//! [`WriteBatch`], is one atomic transaction: on error nothing has changed.
//!
//! Callers bring the traits into scope with `use arca_store::prelude::*;`.

pub mod access;
pub mod cache;
pub mod documents;
pub mod lease;
pub mod meta;
pub mod objects;
pub mod outbox;
pub mod vaults;

use async_trait::async_trait;

pub use access::{
    check_policy_key, AccessStore, PolicyRecord, PrincipalRecord, POLICY_DATA_MAX, POLICY_ID_MAX,
    POLICY_KIND_MAX,
};
pub use cache::CachedStore;
pub use documents::{
    check_document_key, DocumentOwner, DocumentRecord, DocumentStore, DOCUMENT_DATA_MAX,
    DOCUMENT_ID_MAX, DOCUMENT_KIND_MAX,
};
pub use lease::{check_lease_request, Lease, LeaseFence, LeaseStore, LEASE_NAME_MAX};
pub use meta::MetaStore;
pub use objects::{
    check_manager, same_manager, BatchItem, Deletion, ItemOutcome, Listing, ObjectAddress,
    ObjectKind, ObjectQuery, ObjectRecord, ObjectStore, ObjectWithVersion, PurgedObject,
    VersionRecord, WriteBatch,
};
pub use outbox::{OutboxMessage, OutboxRow, OutboxStore, OUTBOX_PAYLOAD_MAX, OUTBOX_TOPIC_MAX};
pub use vaults::{VaultRecord, VaultStore};

/// The traits, for `use arca_store::prelude::*;` (methods of a `dyn Store` need their trait in
/// scope).
pub mod prelude {
    pub use crate::{
        AccessStore, DocumentStore, LeaseStore, MetaStore, ObjectStore, OutboxStore, Store,
        VaultStore,
    };
}

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
    /// A [`WriteBatch`] carried a lease fence that no longer holds (the lease expired, was
    /// released or passed to another holder); nothing was written. Not retryable with the same
    /// fence.
    #[error("the lease fence no longer holds")]
    LeaseLost,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The whole storage contract: every capability, plus [`Store::close`]. All methods are safe to
/// call concurrently; reads never block on each other.
#[async_trait]
pub trait Store:
    MetaStore
    + VaultStore
    + AccessStore
    + ObjectStore
    + DocumentStore
    + OutboxStore
    + LeaseStore
    + Send
    + Sync
    + 'static
{
    /// Finishes the writes already accepted (they are durable when it returns), then stops the
    /// store: every later call of any method fails with [`StoreError::Unavailable`]. Closing a
    /// closed store does nothing and succeeds.
    async fn close(&self) -> StoreResult<()>;
}
