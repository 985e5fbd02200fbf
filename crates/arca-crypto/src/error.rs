//! The error type of `arca-crypto`.
//!
//! Messages name what went wrong and, for key files, which path; they never carry key bytes,
//! plaintext, tokens or the reason an authentication tag did not match.

use thiserror::Error;

/// Why a cryptographic operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// A key file could not be created, read or parsed; the message names the path and the problem.
    #[error("key file {0}")]
    KeyFile(String),
    /// Key bytes had the wrong length or encoding.
    #[error("invalid key material")]
    InvalidKey,
    /// Encryption failed, or a sealed structure would exceed its format's limits.
    #[error("sealing failed")]
    Seal,
    /// Sealed data did not authenticate or was malformed; deliberately without details.
    #[error("sealed data could not be opened")]
    Open,
    /// Sealed data names a data key that this keyring does not hold.
    #[error("sealed data names a key id that is not in the keyring")]
    UnknownKey,
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// A JSON Web Token could not be built or verified.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// A certificate or its key could not be generated, parsed or signed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// Password hashing failed.
    #[error("password hashing failed")]
    Hash,
}

/// Why a JSON Web Token was refused. Messages never quote the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Too large, not three base64url segments, or a header or claims set that is not a JSON object.
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm the verifier does not accept (for our own tokens anything
    /// but ES256; for external tokens one outside RS*/PS*/ES256/ES384 or one that does not fit
    /// the key's type), including `none` and the HMAC family.
    #[error("unsupported token algorithm")]
    UnsupportedAlgorithm,
    /// The header has no `kid`, or names a key that is not trusted.
    #[error("token signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad token signature")]
    BadSignature,
}
