//! `arca-crypto`: the only crate of Arca that touches key material.
//!
//! # Key hierarchy
//!
//! ```text
//! key file (KEK, 32 bytes, mode 0600)      -- or another seal (Shamir shares, external KMS)
//!   └─ seals the root key                  AES-256-GCM, associated data "arca/root-key/v1"
//!        └─ seals the keyring               AES-256-GCM, associated data "arca/keyring/v1"
//!             └─ data keys (id → AES-256)   one active for sealing, older ones kept for opening
//!                  └─ record envelopes      [0x01][key id][nonce][ciphertext||tag], associated
//!                                           data = header + record_aad(vault, kind, name,
//!                                           version, field)
//! ```
//!
//! Storage only ever sees the sealed root key, the sealed keyring and record envelopes. Because
//! the associated data names the record's place, a ciphertext copied to another vault, object,
//! version or field does not open. Backup blobs are envelopes under the same keyring with their
//! own associated data (magic and object kind), so they restore only into the same deployment.
//!
//! Every seal uses a fresh random 96-bit nonce. That is safe for well under 2^32 seals per data
//! key; rotate the keyring ([`Keyring::rotate`]) long before that.
//!
//! The crate also holds the other secrets' machinery: Argon2id client-secret hashes, the ES256
//! token signing key and token verification, and the local TLS certificate authority.
//!
//! For the token endpoint it verifies other parties' tokens: client assertions signed with a
//! registered [`ClientCertificate`] and federated assertions from external OIDC issuers checked
//! against a [`JwkSet`] ([`verify_external_jws`], RS*/PS*/ES256/ES384 only, the algorithm bound
//! to the key's type; [`jws_header`] reads the unverified header to choose the key).
//!
//! # Layout
//!
//! | module | holds |
//! | --- | --- |
//! | `seal/` | AES-256-GCM, key file, root key, keyring, record envelopes, backups, randomness |
//! | `jose/` | other parties' JWKs, external JWS verification, Arca's ES256 tokens |
//! | `pki/` | DER/PEM, X.509 client certificates, the local CA, the rustls provider |
//! | [`pki::certs`] | the certificates API: descriptions → certificates and CSRs, parsing, chains, PFX, PEM |
//! | [`keys`] | the key-operations seam of the keys API: generate, import, sign, encrypt, wrap |
//! | `secret`, `password`, `digest` | zeroizing secret types and `ct_eq`, Argon2id, SHA-256 |
//!
//! One crypto library serves all of it, TLS included: aws-lc-rs (AWS-LC). Nothing outside this
//! crate names it, except tests that play an outside party.
//!
//! Rules kept throughout: secret bytes live only in zeroizing types with redacted `Debug`
//! ([`SecretBytes`], [`SecretString`], the key types); errors never carry key bytes, plaintext or
//! tokens; secrets are compared in constant time; nothing reads the clock (time is passed in).

mod digest;
mod error;
mod jose;
pub mod keys;
mod password;
pub mod pki;
mod seal;
mod secret;
#[cfg(test)]
mod test_keys;

pub use digest::sha256;
pub use error::{CryptoError, JwtError};
pub use jose::jwk::{EcPublicKey, JwkSet, PublicKey, RsaPublicKey};
pub use jose::jws::{jws_header, jws_unverified, verify_external_jws};
pub use jose::jwt::{verify_jwt, ReleaseSigningKey, TokenSigningKey, VerifyingKey, MAX_TOKEN_LEN};
pub use password::{hash_client_secret, verify_client_secret};
pub use pki::ca::{
    ca_constraint_names, ca_key_matches, dns_name_within, dns_suffix, generate_ca,
    generate_local_ca, issue_issuing_ca, issue_server_cert, issuing_suffixes, private_key_pem,
    CaMaterial, IssuedCert, LOCAL_CA_LIFETIME, MAX_ISSUING_SUFFIXES,
};
pub use pki::tls::tls_provider;
pub use pki::x509::ClientCertificate;
pub use seal::backup::BACKUP_MAGIC;
pub use seal::keyfile::{load_or_create_key_file, Kek, RootKey};
pub use seal::keyring::{envelope_key_id, record_aad, Keyring};
pub use seal::random::{random_bytes, random_vec};
pub use secret::{ct_eq, SecretBytes, SecretString};
