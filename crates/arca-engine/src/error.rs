//! [`EngineError`]: every way an operation on vault objects can fail, named for what happened and
//! for which kind of object, never for how HTTP shows it.
//!
//! One table at the edge (`arca-server`'s `error.rs`) turns each variant into Key Vault's status,
//! code and message, per kind (`SecretNotFound`, `KeyNotFound`, `CertificateNotFound`...), so a
//! new kind needs no new variant. Messages carried here name limits and objects, never values.
//! Storage and crypto failures are logged where they are converted (here), once.

use arca_core::ObjectKind;
use arca_store::StoreError;

/// What went wrong in an operation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The vault does not exist (it was deleted while the request was served).
    #[error("vault {vault} not found")]
    VaultNotFound { vault: String },
    /// The object (or the version) does not exist in the active state. `name` is the name as the
    /// caller gave it, with `/version` when one was asked for.
    #[error("{kind} {name} not found")]
    NotFound { kind: ObjectKind, name: String },
    /// The named object is not in the deleted state.
    #[error("certificate issuer {name} not found")]
    IssuerNotFound { name: String },
    /// The certificate has no pending operation (or does not exist).
    #[error("pending certificate {name} not found")]
    PendingNotFound { name: String },
    #[error("deleted {kind} {name} not found")]
    DeletedNotFound { kind: ObjectKind, name: String },
    /// The version is disabled; `operation` is the verb Key Vault names (`get`).
    #[error("operation {operation} is not allowed on a disabled {kind}")]
    Disabled {
        kind: ObjectKind,
        operation: &'static str,
    },
    /// The object is enabled but does not permit the operation now (`operation` is the verb Key
    /// Vault names: `sign`, `wrapKey`...), for `reason`.
    #[error("operation {operation} is not permitted on this {kind}: {reason}")]
    NotPermitted {
        kind: ObjectKind,
        operation: &'static str,
        reason: Refusal,
    },
    /// The name is soft-deleted: only recover and purge apply, and it cannot be reused.
    /// The object is a certificate's key or secret: the certificate manages its lifetime, and
    /// the keys and secrets APIs may read it but not change, delete, recover, purge or back it up.
    #[error("operation {operation} is not allowed on a {kind} managed by a certificate")]
    Managed {
        kind: ObjectKind,
        operation: &'static str,
    },
    #[error("{kind} {name} is deleted but recoverable")]
    Deleted { kind: ObjectKind, name: String },
    /// The operation conflicts with what exists (a restore onto a used name, ...).
    #[error("conflict: {message}")]
    Conflict { kind: ObjectKind, message: String },
    /// The vault's purge protection forbids purging before the scheduled date.
    #[error("purge of a {kind} is forbidden by purge protection")]
    PurgeProtected { kind: ObjectKind },
    /// The request breaks a rule (a limit, a malformed backup...). The message is the caller's
    /// to read and never quotes a value.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A key release refused for its attestation token: untrusted issuer, bad signature, outside
    /// its validity window, or a release policy it does not satisfy. The message quotes nothing
    /// of the token.
    #[error("release refused: {0}")]
    ReleaseRefused(String),
    /// Storage cannot serve now; retryable.
    #[error("storage unavailable")]
    Unavailable,
    /// A bug or corrupt data; the cause was logged where it happened.
    #[error("internal error")]
    Internal,
}

pub type EngineResult<T> = Result<T, EngineError>;

/// Why an enabled object refuses an operation ([`EngineError::NotPermitted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The operations the object permits (a key's `key_ops`) leave this one out.
    #[error("not among its permitted operations")]
    NotAllowed,
    /// The object's `nbf` is still to come.
    #[error("not yet valid")]
    NotYetValid,
    /// The object's `exp` has passed.
    #[error("expired")]
    Expired,
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                EngineError::Unavailable
            }
            StoreError::Invalid(limit) => EngineError::Invalid(limit),
            other => {
                tracing::error!(error = %other, "unexpected storage outcome");
                EngineError::Internal
            }
        }
    }
}

impl From<arca_crypto::CryptoError> for EngineError {
    fn from(e: arca_crypto::CryptoError) -> Self {
        tracing::error!(error = %e, "cryptographic failure on stored data");
        EngineError::Internal
    }
}
