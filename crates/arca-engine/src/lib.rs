//! Operations on vault objects, below HTTP: what the Key Vault API does to secrets (and, as they
//! land, keys and certificates), called by the HTTP routes and by background jobs alike.
//!
//! An operation seals and opens records with the keyring, applies Key Vault's lifecycle rules,
//! reads and writes the store, and returns domain types or an [`EngineError`]. It never sees a
//! request, a header or a status code: this crate has no HTTP dependency. Every public operation
//! takes an [`Authorized`] proof for itself and checks that the proof names the object it acts on,
//! so an operation cannot run undecided, nor on another object than the one decided.
//!
//! - [`objects`]: the lifecycle shared by every kind (read, list, versions, delete, recover,
//!   purge, backup and restore), returning store records;
//! - [`secrets`]: secrets on that lifecycle (values, content types, tags);
//! - [`keys`]: keys on that lifecycle, and what keys do (sign, encrypt, wrap...);
//! - [`certificates`]: certificates' policies (the rest of the certificates API is being built);
//! - [`attestation`]: the attestation issuers each vault trusts for key release;
//! - [`integrity`]: the sealing that makes records a database writer cannot forge or alter.

pub mod attestation;
pub mod certificates;
pub mod error;
pub mod integrity;
pub mod keys;
pub mod objects;
pub mod secrets;
mod vault_documents;

#[cfg(test)]
mod test_support;

use std::sync::Arc;

use arca_core::Clock;
use arca_crypto::Keyring;
use arca_store::Store;
use base64::Engine as _;

pub use arca_core::authz::Authorized;
pub use error::{EngineError, EngineResult};

/// What every operation works with: the store, the keyring that seals records, and the clock.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    /// Parsed private keys (`keys::cache`), shared by the engine's clones.
    key_cache: Arc<keys::KeyCache>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        Engine {
            store,
            keyring,
            clock,
            key_cache: Arc::default(),
        }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub(crate) fn key_cache(&self) -> &keys::KeyCache {
        &self.key_cache
    }

    /// Unix seconds, from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// The proof a background `job` gets for `operation` on `resource`, the way a request gets its
/// own from `decide`; a job asking for what its table does not grant is a bug, refused as an
/// internal error.
pub(crate) fn job_proof(
    job: arca_core::authz::Job,
    operation: arca_core::Operation,
    resource: &arca_core::authz::Scope,
) -> EngineResult<Authorized> {
    let decision = arca_core::authz::decide_job(job, operation, resource);
    tracing::debug!(
        job = job.name(),
        operation = operation.audit_name(),
        %resource,
        allowed = decision.allowed,
        reason = decision.reason,
        "background job decision"
    );
    Authorized::new(operation, &decision).ok_or_else(|| {
        tracing::error!(
            job = job.name(),
            wanted = operation.audit_name(),
            reason = decision.reason,
            "a background job asked for an operation it may not perform"
        );
        EngineError::Internal
    })
}

/// Base64url without padding, as Key Vault writes binary values.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, with or without padding.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}
