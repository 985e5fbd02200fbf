//! Sealing: how Arca keeps its own data confidential at rest.
//!
//! Holds the AES-256-GCM helpers ([`aead`]), the key file and root key ([`keyfile`]), the keyring
//! of data keys and its record envelopes ([`keyring`]), backup blobs ([`backup`]) and the one
//! source of randomness ([`random`]). See the crate documentation for the key hierarchy.
//!
//! Must not: hold or operate on customer keys (that is [`crate::keys`]), decide which record is
//! sealed or who may open it (callers do), read the clock, or put key bytes or plaintext into an
//! error, a log line or `Debug`.

pub(crate) mod aead;
pub(crate) mod backup;
pub(crate) mod keyfile;
pub(crate) mod keyring;
pub(crate) mod random;

/// Associated data of one secret value's record, for the tests of the sealing modules.
#[cfg(test)]
pub(crate) fn test_record_aad() -> Vec<u8> {
    keyring::record_aad(
        "prod",
        "secret",
        "db-password",
        "0123456789abcdef0123456789abcdef",
        "value",
    )
}
