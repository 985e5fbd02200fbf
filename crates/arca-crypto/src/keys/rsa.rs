//! RSA keys: generation (2048/3072/4096 bits, public exponent 65537), import from JWK
//! components, signing and verifying precomputed digests (PKCS#1 v1.5 and PSS), and
//! RSA1_5 / RSA-OAEP / RSA-OAEP-256 encryption, which also serves for key wrapping.
//!
//! RSA1_5 decryption checks the padding in constant time (aws-lc), but any API that answers
//! "decrypted" or "did not" to arbitrary ciphertexts is a Bleichenbacher oracle by construction;
//! every failure here is the same [`KeyError::Decrypt`], and limiting who may call RSA1_5 decrypt
//! (and how often) is the caller's job.

use aws_lc_rs::digest::Digest;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{
    KeyPair, KeyPairComponents, KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
    PublicKeyComponents, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
};
use aws_lc_rs::signature::{
    KeyPair as _, RsaEncoding, RsaParameters, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512, RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
    RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use zeroize::Zeroizing;

use super::{KeyError, SignatureAlgorithm};
use crate::pki::der;
use crate::SecretBytes;

/// Modulus sizes, in bits, that can be generated or imported.
pub const RSA_SIZES: [usize; 3] = [2048, 3072, 4096];

const KTY: &str = "RSA";

/// RSA encryption padding, shared by encrypt/decrypt and wrap/unwrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Padding {
    /// RSAES-PKCS1-v1_5.
    Pkcs1,
    /// RSAES-OAEP, SHA-1 and MGF1 SHA-1.
    OaepSha1,
    /// RSAES-OAEP, SHA-256 and MGF1 SHA-256.
    OaepSha256,
    /// RSAES-OAEP, SHA-384 and MGF1 SHA-384 (key release's `RSA_AES_KEY_WRAP_384` only).
    OaepSha384,
}

/// The private components of an RSA key as a JWK carries them (big-endian, RFC 7518 §6.3).
pub struct RsaPrivateComponents {
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
    /// Private exponent.
    pub d: SecretBytes,
    /// First prime factor.
    pub p: SecretBytes,
    /// Second prime factor.
    pub q: SecretBytes,
    /// First factor CRT exponent.
    pub dp: SecretBytes,
    /// Second factor CRT exponent.
    pub dq: SecretBytes,
    /// First CRT coefficient.
    pub qi: SecretBytes,
}

/// An RSA public key: modulus and exponent without leading zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RsaPublic {
    pub(super) n: Vec<u8>,
    pub(super) e: Vec<u8>,
}

/// An RSA private key, held as the crypto library's objects for signing and decrypting.
pub(super) struct RsaPrivate {
    signing: KeyPair,
    pkcs1: Pkcs1PrivateDecryptingKey,
    oaep: OaepPrivateDecryptingKey,
    public: RsaPublic,
}

fn invalid(field: &'static str) -> KeyError {
    KeyError::InvalidKey { field }
}

fn checked_bits(n: &[u8]) -> Result<usize, KeyError> {
    let bits = bit_len(n);
    if RSA_SIZES.contains(&bits) {
        Ok(bits)
    } else {
        Err(KeyError::BadKeySize { kty: KTY, bits })
    }
}

/// Bit length of a big-endian magnitude.
fn bit_len(magnitude: &[u8]) -> usize {
    let magnitude = der::strip_leading_zeros(magnitude);
    match magnitude.first() {
        Some(&top) => magnitude.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

impl RsaPrivate {
    /// A fresh key of `bits` (2048, 3072 or 4096); the public exponent is always 65537, which is
    /// all aws-lc's generator produces.
    pub(super) fn generate(bits: usize) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(KeyError::BadKeySize { kty: KTY, bits }),
        };
        let pair = KeyPair::generate(size).map_err(|_| KeyError::Internal)?;
        Self::from_pair(pair)
    }

    /// Imports a key from its JWK components; every component is checked against the others.
    pub(super) fn from_components(c: &RsaPrivateComponents) -> Result<Self, KeyError> {
        checked_bits(&c.n)?;
        if der::strip_leading_zeros(&c.e).is_empty() {
            return Err(invalid("e"));
        }
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: der::strip_leading_zeros(&c.n),
                e: der::strip_leading_zeros(&c.e),
            },
            d: c.d.expose(),
            p: c.p.expose(),
            q: c.q.expose(),
            dP: c.dp.expose(),
            dQ: c.dq.expose(),
            qInv: c.qi.expose(),
        };
        let pair = KeyPair::from_components(&components).map_err(|_| invalid("RSA components"))?;
        Self::from_pair(pair)
    }

    /// Loads a key from PKCS#8 (as [`RsaPrivate::to_pkcs8`] writes it).
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = KeyPair::from_pkcs8(pkcs8).map_err(|_| invalid("PKCS#8"))?;
        Self::from_pair(pair)
    }

    fn from_pair(signing: KeyPair) -> Result<Self, KeyError> {
        let (n, e) =
            der::rsa_public_key(signing.public_key().as_ref()).ok_or(KeyError::Internal)?;
        let public = RsaPublic {
            n: n.to_vec(),
            e: e.to_vec(),
        };
        checked_bits(&public.n)?;
        let pkcs8 = Zeroizing::new(
            signing
                .as_der()
                .map_err(|_| KeyError::Internal)?
                .as_ref()
                .to_vec(),
        );
        let decrypting =
            || PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| KeyError::Internal);
        let pkcs1 =
            Pkcs1PrivateDecryptingKey::new(decrypting()?).map_err(|_| KeyError::Internal)?;
        let oaep = OaepPrivateDecryptingKey::new(decrypting()?).map_err(|_| KeyError::Internal)?;
        Ok(RsaPrivate {
            signing,
            pkcs1,
            oaep,
            public,
        })
    }

    /// The key as PKCS#8 DER, for sealed storage.
    pub(super) fn to_pkcs8(&self) -> Result<SecretBytes, KeyError> {
        let der = self.signing.as_der().map_err(|_| KeyError::Internal)?;
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    pub(super) fn public(&self) -> &RsaPublic {
        &self.public
    }

    /// Signs a precomputed digest (its length already checked by the caller).
    pub(super) fn sign_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &Digest,
    ) -> Result<Vec<u8>, KeyError> {
        let encoding: &'static dyn RsaEncoding = match alg {
            SignatureAlgorithm::Rs256 => &RSA_PKCS1_SHA256,
            SignatureAlgorithm::Rs384 => &RSA_PKCS1_SHA384,
            SignatureAlgorithm::Rs512 => &RSA_PKCS1_SHA512,
            SignatureAlgorithm::Ps256 => &RSA_PSS_SHA256,
            SignatureAlgorithm::Ps384 => &RSA_PSS_SHA384,
            SignatureAlgorithm::Ps512 => &RSA_PSS_SHA512,
            _ => {
                return Err(KeyError::UnsupportedAlgorithm {
                    alg: alg.name(),
                    kty: KTY,
                })
            }
        };
        let mut signature = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign_digest(encoding, digest, &mut signature)
            .map_err(|_| KeyError::Internal)?;
        Ok(signature)
    }

    /// Decrypts `ciphertext`, which must be exactly one modulus long.
    pub(super) fn decrypt(
        &self,
        padding: Padding,
        ciphertext: &[u8],
        alg: &'static str,
    ) -> Result<SecretBytes, KeyError> {
        let modulus_len = self.signing.public_modulus_len();
        if ciphertext.len() != modulus_len {
            return Err(KeyError::BadInputLength {
                what: "ciphertext",
                len: ciphertext.len(),
                alg,
            });
        }
        let mut out = Zeroizing::new(vec![0u8; modulus_len]);
        let len = match padding {
            Padding::Pkcs1 => self.pkcs1.decrypt(ciphertext, &mut out),
            Padding::OaepSha1 => self
                .oaep
                .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None),
            Padding::OaepSha256 => {
                self.oaep
                    .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None)
            }
            Padding::OaepSha384 => {
                self.oaep
                    .decrypt(&OAEP_SHA384_MGF1SHA384, ciphertext, &mut out, None)
            }
        }
        .map_err(|_| KeyError::Decrypt)?
        .len();
        out.truncate(len);
        Ok(SecretBytes::from_slice(&out))
    }
}

impl RsaPublic {
    /// A public key from JWK `n` and `e`.
    pub(super) fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        checked_bits(n)?;
        let e = der::strip_leading_zeros(e);
        // aws-lc accepts odd exponents above 1 of up to 33 bits.
        if e.is_empty() || e.len() > 5 || e.last().is_none_or(|b| b & 1 == 0) || e == [1] {
            return Err(invalid("e"));
        }
        Ok(RsaPublic {
            n: der::strip_leading_zeros(n).to_vec(),
            e: e.to_vec(),
        })
    }

    pub(super) fn bits(&self) -> usize {
        bit_len(&self.n)
    }

    /// PKCS#1 `RSAPublicKey` DER.
    pub(super) fn pkcs1_der(&self) -> Vec<u8> {
        let mut content = der::encode_unsigned_integer(&self.n);
        content.extend_from_slice(&der::encode_unsigned_integer(&self.e));
        der::encode(der::TAG_SEQUENCE, &content)
    }

    /// Verifies `signature` over a precomputed digest. `Ok(false)` for a signature that does not
    /// verify, including one of the wrong length.
    pub(super) fn verify_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &Digest,
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        let params: &'static RsaParameters = match alg {
            SignatureAlgorithm::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
            SignatureAlgorithm::Rs384 => &RSA_PKCS1_2048_8192_SHA384,
            SignatureAlgorithm::Rs512 => &RSA_PKCS1_2048_8192_SHA512,
            SignatureAlgorithm::Ps256 => &RSA_PSS_2048_8192_SHA256,
            SignatureAlgorithm::Ps384 => &RSA_PSS_2048_8192_SHA384,
            SignatureAlgorithm::Ps512 => &RSA_PSS_2048_8192_SHA512,
            _ => {
                return Err(KeyError::UnsupportedAlgorithm {
                    alg: alg.name(),
                    kty: KTY,
                })
            }
        };
        let key = UnparsedPublicKey::new(params, self.pkcs1_der());
        Ok(key.verify_digest(digest, signature).is_ok())
    }

    fn encrypting_key(&self) -> Result<PublicEncryptingKey, KeyError> {
        PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        }
        .try_into()
        .map_err(|_| invalid("RSA public key"))
    }

    /// Encrypts `plaintext`; refuses one too long for the padding and modulus.
    pub(super) fn encrypt(
        &self,
        padding: Padding,
        plaintext: &[u8],
        alg: &'static str,
    ) -> Result<Vec<u8>, KeyError> {
        let key = self.encrypting_key()?;
        let too_long = |max: usize| {
            (plaintext.len() > max).then_some(KeyError::BadInputLength {
                what: "plaintext",
                len: plaintext.len(),
                alg,
            })
        };
        let mut out = vec![0u8; key.key_size_bytes()];
        let len = match padding {
            Padding::Pkcs1 => {
                let key = Pkcs1PublicEncryptingKey::new(key).map_err(|_| KeyError::Internal)?;
                if let Some(error) = too_long(key.max_plaintext_size()) {
                    return Err(error);
                }
                key.encrypt(plaintext, &mut out)
                    .map_err(|_| KeyError::Internal)?
                    .len()
            }
            Padding::OaepSha1 | Padding::OaepSha256 | Padding::OaepSha384 => {
                let algorithm = match padding {
                    Padding::OaepSha1 => &OAEP_SHA1_MGF1SHA1,
                    Padding::OaepSha256 => &OAEP_SHA256_MGF1SHA256,
                    _ => &OAEP_SHA384_MGF1SHA384,
                };
                let key = OaepPublicEncryptingKey::new(key).map_err(|_| KeyError::Internal)?;
                if let Some(error) = too_long(key.max_plaintext_size(algorithm)) {
                    return Err(error);
                }
                key.encrypt(algorithm, plaintext, &mut out, None)
                    .map_err(|_| KeyError::Internal)?
                    .len()
            }
        };
        out.truncate(len);
        Ok(out)
    }
}
