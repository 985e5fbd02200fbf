//! The cryptographic operations of the keys API, with Key Vault's rules of use: a disabled key
//! does nothing; an operation its `key_ops` leave out is refused; outside its `nbf`/`exp` window a
//! key cannot encrypt, sign or wrap but still decrypts, verifies and unwraps. The work itself is
//! the provider's (`arca_crypto::keys`), which checks algorithms against key types, digest
//! lengths, curves and input sizes; its refusals become [`EngineError::Invalid`] with its
//! message, which names algorithms and sizes, never a value. Also random bytes.

use std::sync::Arc;

use arca_core::{ObjectName, Operation, VersionId};
use arca_crypto::keys::{
    EncryptionAlgorithm, PrivateKey, SignatureAlgorithm, SymmetricParams, WrapAlgorithm,
};
use arca_crypto::SecretBytes;
use arca_store::VaultRecord;

use super::cache::Permitted;
use super::{key_error, Meta, KIND};
use crate::error::Refusal;
use crate::objects::{self, require_object, require_vault};
use crate::{Authorized, Engine, EngineError, EngineResult};

/// The most random bytes one request may ask for.
pub const MAX_RANDOM_BYTES: i64 = 128;

/// What an operation produced, with the version of the key that did it.
#[derive(Debug)]
pub struct Outcome {
    pub version: String,
    /// The ciphertext, signature, wrapped key, or (decrypt, unwrap) secret material.
    pub value: SecretBytes,
    /// The IV or nonce a symmetric encryption used.
    pub iv: Option<Vec<u8>>,
    /// The authentication tag of AES-GCM.
    pub tag: Option<Vec<u8>>,
}

impl Outcome {
    fn bytes(version: String, value: SecretBytes) -> Self {
        Outcome {
            version,
            value,
            iv: None,
            tag: None,
        }
    }
}

/// The key version an operation uses: `version` `None` is the current one.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub vault: &'a VaultRecord,
    pub name: &'a ObjectName,
    pub version: Option<&'a VersionId>,
}

/// A use of a key, named as its `key_ops` entry names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    Wrap,
    Unwrap,
}

impl KeyUse {
    pub const ALL: [KeyUse; 6] = [
        KeyUse::Encrypt,
        KeyUse::Decrypt,
        KeyUse::Sign,
        KeyUse::Verify,
        KeyUse::Wrap,
        KeyUse::Unwrap,
    ];

    /// The use a name stands for, ignoring case (the path segment `wrapkey` names `wrapKey`).
    pub fn from_name(name: &str) -> Option<KeyUse> {
        Self::ALL
            .into_iter()
            .find(|u| u.name().eq_ignore_ascii_case(name))
    }

    /// The `key_ops` entry, which is also the operation's path segment.
    pub fn name(self) -> &'static str {
        match self {
            KeyUse::Encrypt => "encrypt",
            KeyUse::Decrypt => "decrypt",
            KeyUse::Sign => "sign",
            KeyUse::Verify => "verify",
            KeyUse::Wrap => "wrapKey",
            KeyUse::Unwrap => "unwrapKey",
        }
    }

    /// The operation whose proof the use needs.
    pub fn operation(self) -> Operation {
        match self {
            KeyUse::Encrypt => Operation::KeyEncrypt,
            KeyUse::Decrypt => Operation::KeyDecrypt,
            KeyUse::Sign => Operation::KeySign,
            KeyUse::Verify => Operation::KeyVerify,
            KeyUse::Wrap => Operation::KeyWrap,
            KeyUse::Unwrap => Operation::KeyUnwrap,
        }
    }

    /// The uses `key_ops` (a version's metadata) allows.
    pub(crate) fn permitted(key_ops: &[String]) -> Permitted {
        let bits = Self::ALL
            .into_iter()
            .filter(|u| key_ops.iter().any(|op| op == u.name()))
            .fold(0, |bits, u| bits | u.bit());
        Permitted(bits)
    }

    fn is_permitted(self, permitted: Permitted) -> bool {
        permitted.0 & self.bit() != 0
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether the use makes something new (and so needs the key inside its validity window).
    fn produces(self) -> bool {
        matches!(self, KeyUse::Encrypt | KeyUse::Sign | KeyUse::Wrap)
    }
}

fn not_permitted(use_: KeyUse, reason: Refusal) -> EngineError {
    EngineError::NotPermitted {
        kind: KIND,
        operation: use_.name(),
        reason,
    }
}

/// The key `at` names, after the proof and every rule of use are checked, with its version id.
/// What the version's sealed records say (its parsed private key, the uses its `key_ops` allow)
/// comes from the engine's cache (`super::cache`) when the records are exactly those it was
/// cached from, else from opening them, which then fills the cache.
async fn usable(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    use_: KeyUse,
) -> EngineResult<(String, Arc<PrivateKey>)> {
    let KeyRef {
        vault,
        name,
        version,
    } = at;
    require_object(auth, use_.operation(), &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, version).await?;
    let record = &found.version;
    if !record.enabled {
        return Err(EngineError::Disabled {
            kind: KIND,
            operation: use_.name(),
        });
    }
    let cache = engine.key_cache();
    let cached = cache.get(&vault.name, name.key(), record);
    let permitted = match &cached {
        Some(hit) => hit.permitted,
        None => {
            let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, record)?;
            KeyUse::permitted(&meta.key.key_ops)
        }
    };
    if !use_.is_permitted(permitted) {
        return Err(not_permitted(use_, Refusal::NotAllowed));
    }
    if use_.produces() {
        let now = engine.now();
        if record.nbf.is_some_and(|nbf| now < nbf) {
            return Err(not_permitted(use_, Refusal::NotYetValid));
        }
        if record.exp.is_some_and(|exp| now >= exp) {
            return Err(not_permitted(use_, Refusal::Expired));
        }
    }
    let private = match cached {
        Some(hit) => hit.key,
        // Opened only after every rule of use passed.
        None => {
            let private = Arc::new(super::open_private(engine, &vault.name, name, record)?);
            cache.insert(&vault.name, name.key(), record, permitted, private.clone());
            private
        }
    };
    Ok((record.version.clone(), private))
}

fn unknown_algorithm(use_: KeyUse) -> EngineError {
    EngineError::Invalid(format!(
        "The algorithm (alg) is not one Key Vault supports for {}.",
        use_.name()
    ))
}

fn encryption_algorithm(alg: &str, use_: KeyUse) -> EngineResult<EncryptionAlgorithm> {
    EncryptionAlgorithm::from_name(alg).ok_or_else(|| unknown_algorithm(use_))
}

fn signature_algorithm(alg: &str, use_: KeyUse) -> EngineResult<SignatureAlgorithm> {
    SignatureAlgorithm::from_name(alg).ok_or_else(|| unknown_algorithm(use_))
}

fn wrap_algorithm(alg: &str, use_: KeyUse) -> EngineResult<WrapAlgorithm> {
    WrapAlgorithm::from_name(alg).ok_or_else(|| unknown_algorithm(use_))
}

/// Encrypts `plaintext` with the key (`alg` a JWA name; `params` the IV and AAD of AES).
pub async fn encrypt(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    plaintext: &SecretBytes,
    params: SymmetricParams<'_>,
) -> EngineResult<Outcome> {
    let (version, key) = usable(engine, auth, at, KeyUse::Encrypt).await?;
    let alg = encryption_algorithm(alg, KeyUse::Encrypt)?;
    let done = key
        .encrypt(alg, plaintext.expose(), &params)
        .map_err(key_error)?;
    Ok(Outcome {
        version,
        value: SecretBytes::new(done.ciphertext),
        iv: done.iv,
        tag: done.tag,
    })
}

/// Decrypts `ciphertext` with the key; every failure of the decryption itself is one message.
pub async fn decrypt(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    ciphertext: &[u8],
    params: SymmetricParams<'_>,
) -> EngineResult<Outcome> {
    let (version, key) = usable(engine, auth, at, KeyUse::Decrypt).await?;
    let alg = encryption_algorithm(alg, KeyUse::Decrypt)?;
    let plain = key.decrypt(alg, ciphertext, &params).map_err(key_error)?;
    Ok(Outcome::bytes(version, plain))
}

/// Signs a precomputed `digest` (Key Vault never hashes).
pub async fn sign(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    digest: &[u8],
) -> EngineResult<Outcome> {
    let (version, key) = usable(engine, auth, at, KeyUse::Sign).await?;
    let alg = signature_algorithm(alg, KeyUse::Sign)?;
    let signature = key.sign_digest(alg, digest).map_err(key_error)?;
    Ok(Outcome::bytes(version, SecretBytes::new(signature)))
}

/// Whether `signature` verifies over `digest` with the key's public half.
pub async fn verify(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    digest: &[u8],
    signature: &[u8],
) -> EngineResult<bool> {
    let (_, key) = usable(engine, auth, at, KeyUse::Verify).await?;
    let alg = signature_algorithm(alg, KeyUse::Verify)?;
    key.verify_digest(alg, digest, signature).map_err(key_error)
}

/// Wraps `key_bytes` (another key) with the key.
pub async fn wrap_key(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    key_bytes: &SecretBytes,
) -> EngineResult<Outcome> {
    let (version, key) = usable(engine, auth, at, KeyUse::Wrap).await?;
    let alg = wrap_algorithm(alg, KeyUse::Wrap)?;
    let wrapped = key.wrap_key(alg, key_bytes.expose()).map_err(key_error)?;
    Ok(Outcome::bytes(version, SecretBytes::new(wrapped)))
}

/// Unwraps a key wrapped with the key.
pub async fn unwrap_key(
    engine: &Engine,
    auth: &Authorized,
    at: KeyRef<'_>,
    alg: &str,
    wrapped: &[u8],
) -> EngineResult<Outcome> {
    let (version, key) = usable(engine, auth, at, KeyUse::Unwrap).await?;
    let alg = wrap_algorithm(alg, KeyUse::Unwrap)?;
    let unwrapped = key.unwrap_key(alg, wrapped).map_err(key_error)?;
    Ok(Outcome::bytes(version, unwrapped))
}

/// `count` (1 to [`MAX_RANDOM_BYTES`]) bytes from the operating system's CSPRNG.
pub fn random_bytes(
    auth: &Authorized,
    vault: &VaultRecord,
    count: i64,
) -> EngineResult<SecretBytes> {
    require_vault(auth, Operation::KeyRandomBytes, &vault.name)?;
    let count = usize::try_from(count)
        .ok()
        .filter(|&n| (1..=MAX_RANDOM_BYTES as usize).contains(&n))
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "The count of random bytes must be between 1 and {MAX_RANDOM_BYTES}."
            ))
        })?;
    Ok(SecretBytes::new(arca_crypto::random_vec(count)?))
}
