//! The one error type of key operations: names what was wrong, never quotes input bytes.

use thiserror::Error;

/// Why a key operation was refused or failed. Messages name algorithms, curves, sizes and field
/// names only; they never carry key material, plaintext, ciphertext, digests or signatures.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The algorithm does not apply to this type of key (for example `ES256` with an RSA key).
    #[error("algorithm {alg} is not supported for a key of type {kty}")]
    UnsupportedAlgorithm {
        /// The algorithm's JWA name.
        alg: &'static str,
        /// The key's JWK `kty`.
        kty: &'static str,
    },
    /// The digest to sign or verify is not as long as the algorithm's hash.
    #[error("algorithm {alg} needs a {expected}-byte digest, got {actual} bytes")]
    BadDigestLength {
        /// The algorithm's JWA name.
        alg: &'static str,
        /// The digest length the algorithm needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// An ECDSA algorithm used with a key on another curve.
    #[error("algorithm {alg} needs curve {expected}, the key is on {actual}")]
    CurveMismatch {
        /// The algorithm's JWA name.
        alg: &'static str,
        /// The curve the algorithm needs.
        expected: &'static str,
        /// The key's curve.
        actual: &'static str,
    },
    /// The curve is not one this provider supports.
    #[error("unsupported curve")]
    UnsupportedCurve,
    /// A key size (in bits) that is not allowed for this type of key or algorithm.
    #[error("a {kty} key of {bits} bits is not supported here")]
    BadKeySize {
        /// The key's JWK `kty`.
        kty: &'static str,
        /// The size asked for or found.
        bits: usize,
    },
    /// An input (named by `what`: plaintext, ciphertext, iv, tag, ...) has a length the operation
    /// cannot accept.
    #[error("{what} has a length of {len} bytes, which {alg} does not accept")]
    BadInputLength {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The algorithm's JWA name.
        alg: &'static str,
    },
    /// An input that the algorithm does not take (for example an IV for AES-GCM encryption,
    /// which always draws its own).
    #[error("{what} is not accepted by {alg}")]
    UnexpectedInput {
        /// Which input.
        what: &'static str,
        /// The algorithm's JWA name.
        alg: &'static str,
    },
    /// Key material that is malformed or inconsistent; `field` names the JWK member or part.
    #[error("invalid key material: {field}")]
    InvalidKey {
        /// The JWK member (or other part) at fault.
        field: &'static str,
    },
    /// Decryption or unwrapping failed: wrong key, tampered or malformed ciphertext, bad padding.
    /// Deliberately says no more, so it cannot serve as a padding oracle.
    #[error("decryption failed")]
    Decrypt,
    /// The crypto library failed for a reason that is not the caller's input (randomness, an
    /// internal error).
    #[error("the crypto library failed")]
    Internal,
}
