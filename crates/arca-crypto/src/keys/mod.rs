//! Key operations for the keys API: the provider seam between Arca and its crypto library.
//!
//! The seam is a set of opaque types with methods, not a trait: [`PrivateKey`] (RSA, EC or
//! `oct`, generated here or imported from JWK components) and [`PublicKey`] (its public half, or
//! one built from a public JWK). Callers name algorithms with [`SignatureAlgorithm`],
//! [`EncryptionAlgorithm`] and [`WrapAlgorithm`] and get back bytes, [`SecretBytes`] and
//! [`KeyError`]; no type of the crypto library (aws-lc-rs) crosses this boundary, so the library
//! can be replaced, or a second provider (an HSM, a KMS) added behind the same types, without
//! touching a caller. A trait was not chosen because there is one implementation today; the
//! methods below are the trait such a change would extract.
//!
//! What it does: generate RSA 2048/3072/4096 (exponent 65537), EC P-256/P-256K/P-384/P-521 and
//! AES 128/192/256 keys; import private keys from JWK components and export public JWKs (never a
//! private member); sign and verify a precomputed digest (RS*, PS*, ES256/ES256K/ES384/ES512),
//! checking the digest length against the algorithm and the curve against the key; encrypt and
//! decrypt (RSA1_5, RSA-OAEP, RSA-OAEP-256, AES-GCM, AES-CBC, AES-CBC-PAD); wrap and unwrap keys
//! (the RSA algorithms, AES key wrap RFC 3394 and with padding RFC 5649); serialize a private
//! key for sealed storage ([`PrivateKey::to_storage`]); wrap a key for key release to an
//! attested RSA target ([`PrivateKey::wrap_for_release`], `release.rs`).
//!
//! Must not: expose a type of the crypto library to callers, put key bytes, plaintext or any
//! input bytes into an error or `Debug`, read the clock, or decide policy (which operations a
//! key permits, who may call them, key rotation): callers decide that and this module only
//! carries it out.

mod alg;
mod ec;
mod error;
mod kw;
mod oct;
mod release;
mod rsa;
#[cfg(test)]
mod tests;

use std::fmt;

use aws_lc_rs::digest::Digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

pub use alg::{Curve, EncryptionAlgorithm, KeyType, SignatureAlgorithm, WrapAlgorithm};
pub use error::KeyError;
pub use oct::{Encrypted, SymmetricParams, OCT_SIZES};
pub use release::ReleaseEncryption;
pub use rsa::{RsaPrivateComponents, RSA_SIZES};

use crate::pki::der;
use crate::SecretBytes;
use ec::{EcPrivate, EcPublic};
use oct::OctKey;
use rsa::{Padding, RsaPrivate, RsaPublic};

/// rsaEncryption, 1.2.840.113549.1.1.1.
pub(crate) const OID_RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
/// id-ecPublicKey, 1.2.840.10045.2.1.
pub(crate) const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10_045, 2, 1];

/// Version byte of [`PrivateKey::to_storage`]'s encoding.
const STORAGE_FORMAT: u8 = 0x01;

/// A private (or secret) key. Its `Debug` shows the type and size only.
pub struct PrivateKey(Private);

enum Private {
    Rsa(RsaPrivate),
    Ec(EcPrivate),
    Oct(OctKey),
}

/// A public key: RSA or EC. `oct` keys have none.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Public);

#[derive(Clone, PartialEq, Eq)]
enum Public {
    Rsa(RsaPublic),
    Ec(EcPublic),
}

fn unsupported(alg: &'static str, kty: KeyType) -> KeyError {
    KeyError::UnsupportedAlgorithm {
        alg,
        kty: kty.name(),
    }
}

/// The digest as the library's type, after checking its length against the algorithm.
fn import_digest(alg: SignatureAlgorithm, digest: &[u8]) -> Result<Digest, KeyError> {
    if digest.len() != alg.digest_len() {
        return Err(KeyError::BadDigestLength {
            alg: alg.name(),
            expected: alg.digest_len(),
            actual: digest.len(),
        });
    }
    Digest::import_less_safe(digest, alg.digest()).map_err(|_| KeyError::Internal)
}

/// Refuses an ECDSA algorithm whose curve is not the key's.
fn check_curve(alg: SignatureAlgorithm, key_curve: Curve) -> Result<(), KeyError> {
    match alg.curve() {
        Some(curve) if curve == key_curve => Ok(()),
        Some(curve) => Err(KeyError::CurveMismatch {
            alg: alg.name(),
            expected: curve.name(),
            actual: key_curve.name(),
        }),
        None => Err(unsupported(alg.name(), KeyType::Ec)),
    }
}

fn rsa_padding(name: &'static str) -> Option<Padding> {
    match name {
        "RSA1_5" => Some(Padding::Pkcs1),
        "RSA-OAEP" => Some(Padding::OaepSha1),
        "RSA-OAEP-256" => Some(Padding::OaepSha256),
        _ => None,
    }
}

/// The RSA padding of an encryption algorithm, which takes no IV, AAD or tag.
fn rsa_encryption_padding(
    alg: EncryptionAlgorithm,
    params: &SymmetricParams<'_>,
) -> Result<Padding, KeyError> {
    no_symmetric_params(params, alg.name())?;
    rsa_padding(alg.name()).ok_or(KeyError::Internal)
}

/// RSA takes no IV, AAD or tag.
fn no_symmetric_params(params: &SymmetricParams<'_>, alg: &'static str) -> Result<(), KeyError> {
    let unexpected = |what| Err(KeyError::UnexpectedInput { what, alg });
    if params.iv.is_some() {
        return unexpected("iv");
    }
    if params.aad.is_some() {
        return unexpected("aad");
    }
    if params.tag.is_some() {
        return unexpected("tag");
    }
    Ok(())
}

/// A JWK member decoded from base64url (no padding).
fn member(jwk: &Map<String, Value>, field: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = jwk
        .get(field)
        .and_then(Value::as_str)
        .ok_or(KeyError::InvalidKey { field })?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| KeyError::InvalidKey { field })
}

fn secret_member(jwk: &Map<String, Value>, field: &'static str) -> Result<SecretBytes, KeyError> {
    member(jwk, field).map(SecretBytes::new)
}

fn curve_member(jwk: &Map<String, Value>) -> Result<Curve, KeyError> {
    let name = jwk
        .get("crv")
        .and_then(Value::as_str)
        .ok_or(KeyError::InvalidKey { field: "crv" })?;
    Curve::from_name(name).ok_or(KeyError::UnsupportedCurve)
}

fn key_type_member(jwk: &Map<String, Value>) -> Result<KeyType, KeyError> {
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => Ok(KeyType::Rsa),
        Some("EC") => Ok(KeyType::Ec),
        Some("oct") => Ok(KeyType::Oct),
        _ => Err(KeyError::InvalidKey { field: "kty" }),
    }
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(bytes))
}

impl PrivateKey {
    /// A fresh RSA key of `bits` (2048, 3072 or 4096). The public exponent is 65537: aws-lc
    /// generates no other.
    pub fn generate_rsa(bits: usize) -> Result<PrivateKey, KeyError> {
        RsaPrivate::generate(bits).map(|key| PrivateKey(Private::Rsa(key)))
    }

    /// A fresh EC key on `curve`.
    pub fn generate_ec(curve: Curve) -> Result<PrivateKey, KeyError> {
        EcPrivate::generate(curve).map(|key| PrivateKey(Private::Ec(key)))
    }

    /// A fresh AES key of `bits` (128, 192 or 256) from the operating system's CSPRNG.
    pub fn generate_oct(bits: usize) -> Result<PrivateKey, KeyError> {
        OctKey::generate(bits).map(|key| PrivateKey(Private::Oct(key)))
    }

    /// Imports an RSA key from its JWK components (all eight are required and checked against
    /// each other). The modulus must be 2048, 3072 or 4096 bits.
    pub fn from_rsa_components(components: &RsaPrivateComponents) -> Result<PrivateKey, KeyError> {
        RsaPrivate::from_components(components).map(|key| PrivateKey(Private::Rsa(key)))
    }

    /// Imports an EC key from JWK `x`, `y` and `d` on `curve`; `x`/`y` must match `d`.
    pub fn from_ec_components(
        curve: Curve,
        x: &[u8],
        y: &[u8],
        d: &SecretBytes,
    ) -> Result<PrivateKey, KeyError> {
        EcPrivate::from_components(curve, x, y, d).map(|key| PrivateKey(Private::Ec(key)))
    }

    /// Imports an AES key from JWK `k` (16, 24 or 32 bytes).
    pub fn from_oct(k: &SecretBytes) -> Result<PrivateKey, KeyError> {
        OctKey::from_bytes(k.expose()).map(|key| PrivateKey(Private::Oct(key)))
    }

    /// Imports a private JWK (`kty` `RSA`, `EC` or `oct`; members base64url). Other members
    /// (`kid`, `key_ops`, ...) are ignored: they are the caller's business.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<PrivateKey, KeyError> {
        match key_type_member(jwk)? {
            KeyType::Rsa => Self::from_rsa_components(&RsaPrivateComponents {
                n: member(jwk, "n")?,
                e: member(jwk, "e")?,
                d: secret_member(jwk, "d")?,
                p: secret_member(jwk, "p")?,
                q: secret_member(jwk, "q")?,
                dp: secret_member(jwk, "dp")?,
                dq: secret_member(jwk, "dq")?,
                qi: secret_member(jwk, "qi")?,
            }),
            KeyType::Ec => Self::from_ec_components(
                curve_member(jwk)?,
                &member(jwk, "x")?,
                &member(jwk, "y")?,
                &secret_member(jwk, "d")?,
            ),
            KeyType::Oct => Self::from_oct(&secret_member(jwk, "k")?),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Private::Rsa(_) => KeyType::Rsa,
            Private::Ec(_) => KeyType::Ec,
            Private::Oct(_) => KeyType::Oct,
        }
    }

    /// The curve of an EC key.
    pub fn curve(&self) -> Option<Curve> {
        match &self.0 {
            Private::Ec(key) => Some(key.curve()),
            _ => None,
        }
    }

    /// The size in bits of an RSA modulus or an AES key; `None` for EC (see [`Self::curve`]).
    pub fn size_bits(&self) -> Option<usize> {
        match &self.0 {
            Private::Rsa(key) => Some(key.public().bits()),
            Private::Oct(key) => Some(key.bits()),
            Private::Ec(_) => None,
        }
    }

    /// The public half of an RSA or EC key; `None` for `oct`.
    pub fn public_key(&self) -> Option<PublicKey> {
        match &self.0 {
            Private::Rsa(key) => Some(PublicKey(Public::Rsa(key.public().clone()))),
            Private::Ec(key) => Some(PublicKey(Public::Ec(key.public().clone()))),
            Private::Oct(_) => None,
        }
    }

    /// The public JWK members: `kty` and `n`, `e` or `crv`, `x`, `y`. For an `oct` key, `kty`
    /// only. Never `d`, `p`, `q`, `dp`, `dq`, `qi` or `k`.
    pub fn public_jwk(&self) -> Map<String, Value> {
        match self.public_key() {
            Some(public) => public.to_jwk(),
            None => {
                let mut jwk = Map::new();
                jwk.insert("kty".into(), KeyType::Oct.name().into());
                jwk
            }
        }
    }

    /// The key in a self-describing form for sealed storage: a format byte, the key type (and
    /// curve), then PKCS#8 DER for RSA and EC or the raw bytes for `oct`. Seal it before it
    /// leaves memory.
    pub fn to_storage(&self) -> Result<SecretBytes, KeyError> {
        let (header, body): (Vec<u8>, SecretBytes) = match &self.0 {
            Private::Rsa(key) => (vec![STORAGE_FORMAT, 1], key.to_pkcs8()?),
            Private::Ec(key) => {
                let curve = Curve::ALL
                    .iter()
                    .position(|&c| c == key.curve())
                    .ok_or(KeyError::Internal)?;
                let curve = u8::try_from(curve).map_err(|_| KeyError::Internal)?;
                (vec![STORAGE_FORMAT, 2, curve], key.to_pkcs8()?)
            }
            Private::Oct(key) => (vec![STORAGE_FORMAT, 3], key.to_secret()),
        };
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(header.len() + body.len()));
        out.extend_from_slice(&header);
        out.extend_from_slice(body.expose());
        Ok(SecretBytes::from_slice(&out))
    }

    /// Reads a key written by [`Self::to_storage`].
    pub fn from_storage(stored: &[u8]) -> Result<PrivateKey, KeyError> {
        let invalid = KeyError::InvalidKey {
            field: "stored key",
        };
        match stored {
            [STORAGE_FORMAT, 1, pkcs8 @ ..] => {
                RsaPrivate::from_pkcs8(pkcs8).map(|key| PrivateKey(Private::Rsa(key)))
            }
            [STORAGE_FORMAT, 2, curve, pkcs8 @ ..] => {
                let curve = *Curve::ALL.get(usize::from(*curve)).ok_or(invalid)?;
                EcPrivate::from_pkcs8(curve, pkcs8).map(|key| PrivateKey(Private::Ec(key)))
            }
            [STORAGE_FORMAT, 3, k @ ..] => {
                OctKey::from_bytes(k).map(|key| PrivateKey(Private::Oct(key)))
            }
            _ => Err(invalid),
        }
    }

    /// Imports an RSA or EC private key from PKCS#8 `PrivateKeyInfo` DER (v1 or v2), the
    /// type and curve read from its AlgorithmIdentifier. RSA keys must be 2048, 3072 or 4096
    /// bits; EC keys on P-256, P-256K, P-384 or P-521.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<PrivateKey, KeyError> {
        let invalid = || KeyError::InvalidKey { field: "PKCS#8" };
        let info = der::read_only(pkcs8, der::TAG_SEQUENCE).ok_or_else(invalid)?;
        let parts = der::children(info.content).ok_or_else(invalid)?;
        let algorithm = parts
            .get(1)
            .filter(|p| p.tag == der::TAG_SEQUENCE)
            .ok_or_else(invalid)?;
        let algorithm = der::children(algorithm.content).ok_or_else(invalid)?;
        let oid = |tlv: Option<&der::Tlv<'_>>| {
            tlv.filter(|t| t.tag == der::TAG_OID)
                .and_then(|t| der::oid_arcs(t.content))
        };
        let kind = oid(algorithm.first()).ok_or_else(invalid)?;
        if kind == OID_RSA_ENCRYPTION {
            return RsaPrivate::from_pkcs8(pkcs8).map(|key| PrivateKey(Private::Rsa(key)));
        }
        if kind != OID_EC_PUBLIC_KEY {
            return Err(KeyError::InvalidKey {
                field: "PKCS#8 key type",
            });
        }
        let curve_oid = oid(algorithm.get(1)).ok_or_else(invalid)?;
        let curve = Curve::ALL
            .into_iter()
            .find(|c| c.oid() == curve_oid.as_slice())
            .ok_or(KeyError::UnsupportedCurve)?;
        EcPrivate::from_pkcs8(curve, pkcs8).map(|key| PrivateKey(Private::Ec(key)))
    }

    /// The private key as PKCS#8 DER (RSA and EC; `oct` keys have no PKCS#8 form). For export
    /// in a certificate's PFX or PEM secret only; callers must not log or persist it unsealed.
    pub fn to_pkcs8(&self) -> Result<SecretBytes, KeyError> {
        match &self.0 {
            Private::Rsa(key) => key.to_pkcs8(),
            Private::Ec(key) => key.to_pkcs8(),
            Private::Oct(_) => Err(unsupported("PKCS#8", KeyType::Oct)),
        }
    }

    /// Signs a precomputed `digest` (its length must be the algorithm's hash length; an ECDSA
    /// algorithm must match the key's curve). RSA signatures are one modulus long; ECDSA ones
    /// are `r || s`, each the curve's field length.
    pub fn sign_digest(&self, alg: SignatureAlgorithm, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        if alg.key_type() != self.key_type() {
            return Err(unsupported(alg.name(), self.key_type()));
        }
        match &self.0 {
            Private::Rsa(key) => key.sign_digest(alg, &import_digest(alg, digest)?),
            Private::Ec(key) => {
                check_curve(alg, key.curve())?;
                key.sign_digest(&import_digest(alg, digest)?)
            }
            Private::Oct(_) => Err(unsupported(alg.name(), KeyType::Oct)),
        }
    }

    /// Verifies `signature` over a precomputed `digest` with the key's public half: `Ok(false)`
    /// when it does not verify, an error when the request itself is wrong.
    pub fn verify_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        match self.public_key() {
            Some(public) => public.verify_digest(alg, digest, signature),
            None => Err(unsupported(alg.name(), KeyType::Oct)),
        }
    }

    /// Encrypts `plaintext`. RSA algorithms take no `params`; AES-GCM draws its own nonce and
    /// returns it with the tag; AES-CBC uses `params.iv` or draws one.
    pub fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        plaintext: &[u8],
        params: &SymmetricParams<'_>,
    ) -> Result<Encrypted, KeyError> {
        match (&self.0, alg.key_type()) {
            (Private::Rsa(key), KeyType::Rsa) => {
                let padding = rsa_encryption_padding(alg, params)?;
                Ok(Encrypted {
                    ciphertext: key.public().encrypt(padding, plaintext, alg.name())?,
                    iv: None,
                    tag: None,
                })
            }
            (Private::Oct(key), KeyType::Oct) => key.encrypt(alg, plaintext, params),
            _ => Err(unsupported(alg.name(), self.key_type())),
        }
    }

    /// Decrypts `ciphertext`. Every failure of the decryption itself (wrong key, tampering, bad
    /// padding) is the same [`KeyError::Decrypt`].
    pub fn decrypt(
        &self,
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
        params: &SymmetricParams<'_>,
    ) -> Result<SecretBytes, KeyError> {
        match (&self.0, alg.key_type()) {
            (Private::Rsa(key), KeyType::Rsa) => {
                let padding = rsa_encryption_padding(alg, params)?;
                key.decrypt(padding, ciphertext, alg.name())
            }
            (Private::Oct(key), KeyType::Oct) => key.decrypt(alg, ciphertext, params),
            _ => Err(unsupported(alg.name(), self.key_type())),
        }
    }

    /// Wraps `key` (the bytes of another key).
    pub fn wrap_key(&self, alg: WrapAlgorithm, key: &[u8]) -> Result<Vec<u8>, KeyError> {
        match (&self.0, alg.key_type()) {
            (Private::Rsa(own), KeyType::Rsa) => {
                let padding = rsa_padding(alg.name()).ok_or(KeyError::Internal)?;
                own.public().encrypt(padding, key, alg.name())
            }
            (Private::Oct(own), KeyType::Oct) => own.wrap(alg, key),
            _ => Err(unsupported(alg.name(), self.key_type())),
        }
    }

    /// Unwraps a key wrapped by [`Self::wrap_key`] (or by anyone with the public half).
    pub fn unwrap_key(&self, alg: WrapAlgorithm, wrapped: &[u8]) -> Result<SecretBytes, KeyError> {
        match (&self.0, alg.key_type()) {
            (Private::Rsa(own), KeyType::Rsa) => {
                let padding = rsa_padding(alg.name()).ok_or(KeyError::Internal)?;
                own.decrypt(padding, wrapped, alg.name())
            }
            (Private::Oct(own), KeyType::Oct) => own.unwrap(alg, wrapped),
            _ => Err(unsupported(alg.name(), self.key_type())),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("PrivateKey");
        out.field("kty", &self.key_type().name());
        if let Some(curve) = self.curve() {
            out.field("crv", &curve.name());
        }
        if let Some(bits) = self.size_bits() {
            out.field("bits", &bits);
        }
        out.finish_non_exhaustive()
    }
}

impl PublicKey {
    /// A public key from a public JWK (`kty` `RSA` with `n`, `e`; `EC` with `crv`, `x`, `y`).
    /// Private members, if present, are ignored.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<PublicKey, KeyError> {
        match key_type_member(jwk)? {
            KeyType::Rsa => RsaPublic::from_components(&member(jwk, "n")?, &member(jwk, "e")?)
                .map(|key| PublicKey(Public::Rsa(key))),
            KeyType::Ec => EcPublic::from_coordinates(
                curve_member(jwk)?,
                &member(jwk, "x")?,
                &member(jwk, "y")?,
            )
            .map(|key| PublicKey(Public::Ec(key))),
            KeyType::Oct => Err(KeyError::InvalidKey { field: "kty" }),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Public::Rsa(_) => KeyType::Rsa,
            Public::Ec(_) => KeyType::Ec,
        }
    }

    /// The curve of an EC key.
    pub fn curve(&self) -> Option<Curve> {
        match &self.0 {
            Public::Ec(key) => Some(key.curve),
            Public::Rsa(_) => None,
        }
    }

    /// The public JWK members: `kty` and `n`, `e` or `crv`, `x`, `y`.
    pub fn to_jwk(&self) -> Map<String, Value> {
        let mut jwk = Map::new();
        jwk.insert("kty".into(), self.key_type().name().into());
        match &self.0 {
            Public::Rsa(key) => {
                jwk.insert("n".into(), b64(&key.n));
                jwk.insert("e".into(), b64(&key.e));
            }
            Public::Ec(key) => {
                let (x, y) = key.coordinates();
                jwk.insert("crv".into(), key.curve.name().into());
                jwk.insert("x".into(), b64(x));
                jwk.insert("y".into(), b64(y));
            }
        }
        jwk
    }

    /// The X.509 `SubjectPublicKeyInfo` DER: rsaEncryption with NULL parameters and the PKCS#1
    /// key, or id-ecPublicKey with the named curve and the uncompressed point.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let (algorithm, key) = match &self.0 {
            Public::Rsa(key) => (
                [
                    der::encode_oid(OID_RSA_ENCRYPTION),
                    der::encode(der::TAG_NULL, &[]),
                ]
                .concat(),
                key.pkcs1_der(),
            ),
            Public::Ec(key) => (
                [
                    der::encode_oid(OID_EC_PUBLIC_KEY),
                    der::encode_oid(key.curve.oid()),
                ]
                .concat(),
                key.point().to_vec(),
            ),
        };
        let mut bits = vec![0u8];
        bits.extend_from_slice(&key);
        let content = [
            der::encode(der::TAG_SEQUENCE, &algorithm),
            der::encode(der::TAG_BIT_STRING, &bits),
        ]
        .concat();
        der::encode(der::TAG_SEQUENCE, &content)
    }

    /// Verifies `signature` over a precomputed `digest`; see [`PrivateKey::verify_digest`].
    pub fn verify_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        if alg.key_type() != self.key_type() {
            return Err(unsupported(alg.name(), self.key_type()));
        }
        match &self.0 {
            Public::Rsa(key) => key.verify_digest(alg, &import_digest(alg, digest)?, signature),
            Public::Ec(key) => {
                check_curve(alg, key.curve)?;
                Ok(key.verify_digest(&import_digest(alg, digest)?, signature))
            }
        }
    }

    /// Encrypts `plaintext` with an RSA public key (what a client holding only the public key
    /// would do; [`PrivateKey::decrypt`] opens it).
    pub fn encrypt(&self, alg: EncryptionAlgorithm, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        match (&self.0, rsa_padding(alg.name())) {
            (Public::Rsa(key), Some(padding)) => key.encrypt(padding, plaintext, alg.name()),
            _ => Err(unsupported(alg.name(), self.key_type())),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("PublicKey");
        out.field("kty", &self.key_type().name());
        match &self.0 {
            Public::Rsa(key) => out.field("bits", &key.bits()),
            Public::Ec(key) => out.field("crv", &key.curve.name()),
        };
        out.finish()
    }
}
