//! Symmetric (`oct`) keys: AES-128/192/256 for AES-GCM, AES-CBC (whole blocks) and AES-CBC with
//! PKCS#7 padding, and AES key wrap (RFC 3394) and key wrap with padding (RFC 5649).
//!
//! Key wrap with 128- and 256-bit keys runs in aws-lc (its SP 800-38F implementation, the one a
//! FIPS build validates); aws-lc-rs offers no 192-bit key wrap, so 192-bit keys use [`super::kw`],
//! the same algorithm written out over the AES block cipher and tested against aws-lc's for the
//! other sizes and against the RFC vectors.

use aws_lc_rs::aead::{
    Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM, NONCE_LEN,
};
use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey, AES_128, AES_192, AES_256,
};
use aws_lc_rs::key_wrap::{self, AesKek, KeyWrap as _, KeyWrapPadded as _};
use zeroize::Zeroizing;

use super::kw;
use super::{EncryptionAlgorithm, KeyError, WrapAlgorithm};
use crate::SecretBytes;

const KTY: &str = "oct";
/// AES-GCM tag length.
pub(super) const GCM_TAG_LEN: usize = 16;
/// AES block (and CBC IV) length.
pub(super) const AES_BLOCK_LEN: usize = 16;
/// Symmetric key sizes, in bits, that can be generated or imported.
pub const OCT_SIZES: [usize; 3] = [128, 192, 256];

/// What encryption produced: the ciphertext and, where the algorithm has them, the IV it used
/// (drawn here when the caller gave none) and the authentication tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The IV or nonce (AES-GCM, AES-CBC); `None` for RSA.
    pub iv: Option<Vec<u8>>,
    /// The authentication tag (AES-GCM); `None` otherwise.
    pub tag: Option<Vec<u8>>,
}

impl std::fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encrypted")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("iv", &self.iv.is_some())
            .field("tag", &self.tag.is_some())
            .finish()
    }
}

/// The optional inputs of symmetric encryption and decryption. `Debug` shows lengths only.
#[derive(Clone, Copy, Default)]
pub struct SymmetricParams<'a> {
    /// The IV: the AES-GCM nonce (12 bytes, decryption only: encryption always draws its own) or
    /// the AES-CBC IV (16 bytes; drawn at random for encryption when absent).
    pub iv: Option<&'a [u8]>,
    /// Additional authenticated data (AES-GCM only).
    pub aad: Option<&'a [u8]>,
    /// The authentication tag (AES-GCM decryption only, 16 bytes).
    pub tag: Option<&'a [u8]>,
}

impl std::fmt::Debug for SymmetricParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SymmetricParams")
            .field("iv_len", &self.iv.map(<[u8]>::len))
            .field("aad_len", &self.aad.map(<[u8]>::len))
            .field("tag_len", &self.tag.map(<[u8]>::len))
            .finish()
    }
}

/// A symmetric key: 16, 24 or 32 bytes, zeroized on drop.
pub(super) struct OctKey(Zeroizing<Vec<u8>>);

fn bad_len(what: &'static str, len: usize, alg: &'static str) -> KeyError {
    KeyError::BadInputLength { what, len, alg }
}

fn unexpected(what: &'static str, alg: &'static str) -> KeyError {
    KeyError::UnexpectedInput { what, alg }
}

impl OctKey {
    /// A fresh key of `bits` from the system's CSPRNG.
    pub(super) fn generate(bits: usize) -> Result<Self, KeyError> {
        if !OCT_SIZES.contains(&bits) {
            return Err(KeyError::BadKeySize { kty: KTY, bits });
        }
        let bytes = crate::random_vec(bits / 8).map_err(|_| KeyError::Internal)?;
        Ok(OctKey(Zeroizing::new(bytes)))
    }

    /// Imports JWK `k`.
    pub(super) fn from_bytes(k: &[u8]) -> Result<Self, KeyError> {
        let bits = k.len() * 8;
        if !OCT_SIZES.contains(&bits) {
            return Err(KeyError::BadKeySize { kty: KTY, bits });
        }
        Ok(OctKey(Zeroizing::new(k.to_vec())))
    }

    pub(super) fn bits(&self) -> usize {
        self.0.len() * 8
    }

    pub(super) fn to_secret(&self) -> SecretBytes {
        SecretBytes::from_slice(&self.0)
    }

    fn require_len(&self, len: Option<usize>) -> Result<(), KeyError> {
        match len {
            Some(len) if len == self.0.len() => Ok(()),
            _ => Err(KeyError::BadKeySize {
                kty: KTY,
                bits: self.bits(),
            }),
        }
    }

    fn cipher_key(&self) -> Result<UnboundCipherKey, KeyError> {
        let algorithm = match self.0.len() {
            16 => &AES_128,
            24 => &AES_192,
            _ => &AES_256,
        };
        UnboundCipherKey::new(algorithm, &self.0).map_err(|_| KeyError::Internal)
    }

    fn gcm_key(&self) -> Result<LessSafeKey, KeyError> {
        let algorithm = match self.0.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            _ => &AES_256_GCM,
        };
        let key = UnboundKey::new(algorithm, &self.0).map_err(|_| KeyError::Internal)?;
        Ok(LessSafeKey::new(key))
    }

    pub(super) fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        plaintext: &[u8],
        params: &SymmetricParams<'_>,
    ) -> Result<Encrypted, KeyError> {
        self.require_len(alg.aes_key_len())?;
        let name = alg.name();
        if params.tag.is_some() {
            return Err(unexpected("tag", name));
        }
        match alg {
            EncryptionAlgorithm::A128Gcm
            | EncryptionAlgorithm::A192Gcm
            | EncryptionAlgorithm::A256Gcm => {
                // A caller-chosen GCM nonce could repeat; this module always draws its own.
                if params.iv.is_some() {
                    return Err(unexpected("iv", name));
                }
                let nonce = crate::random_bytes::<NONCE_LEN>().map_err(|_| KeyError::Internal)?;
                let mut buffer = plaintext.to_vec();
                let tag = self
                    .gcm_key()?
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(params.aad.unwrap_or_default()),
                        &mut buffer,
                    )
                    .map_err(|_| KeyError::Internal)?;
                Ok(Encrypted {
                    ciphertext: buffer,
                    iv: Some(nonce.to_vec()),
                    tag: Some(tag.as_ref().to_vec()),
                })
            }
            _ => {
                if params.aad.is_some() {
                    return Err(unexpected("aad", name));
                }
                let iv: [u8; AES_BLOCK_LEN] = match params.iv {
                    Some(iv) => iv.try_into().map_err(|_| bad_len("iv", iv.len(), name))?,
                    None => crate::random_bytes().map_err(|_| KeyError::Internal)?,
                };
                let context = EncryptionContext::Iv128(iv.into());
                let mut buffer = plaintext.to_vec();
                if is_padded(alg) {
                    PaddedBlockEncryptingKey::cbc_pkcs7(self.cipher_key()?)
                        .and_then(|key| key.less_safe_encrypt(&mut buffer, context))
                        .map_err(|_| KeyError::Internal)?;
                } else {
                    if plaintext.is_empty() || plaintext.len() % AES_BLOCK_LEN != 0 {
                        return Err(bad_len("plaintext", plaintext.len(), name));
                    }
                    EncryptingKey::cbc(self.cipher_key()?)
                        .and_then(|key| key.less_safe_encrypt(&mut buffer, context))
                        .map_err(|_| KeyError::Internal)?;
                }
                Ok(Encrypted {
                    ciphertext: buffer,
                    iv: Some(iv.to_vec()),
                    tag: None,
                })
            }
        }
    }

    pub(super) fn decrypt(
        &self,
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
        params: &SymmetricParams<'_>,
    ) -> Result<SecretBytes, KeyError> {
        self.require_len(alg.aes_key_len())?;
        let name = alg.name();
        let iv = params.iv.ok_or(bad_len("iv", 0, name))?;
        match alg {
            EncryptionAlgorithm::A128Gcm
            | EncryptionAlgorithm::A192Gcm
            | EncryptionAlgorithm::A256Gcm => {
                let nonce = Nonce::try_assume_unique_for_key(iv)
                    .map_err(|_| bad_len("iv", iv.len(), name))?;
                let tag = params.tag.ok_or(bad_len("tag", 0, name))?;
                if tag.len() != GCM_TAG_LEN {
                    return Err(bad_len("tag", tag.len(), name));
                }
                let mut buffer = Zeroizing::new(Vec::with_capacity(ciphertext.len() + tag.len()));
                buffer.extend_from_slice(ciphertext);
                buffer.extend_from_slice(tag);
                let plaintext = self
                    .gcm_key()?
                    .open_in_place(
                        nonce,
                        Aad::from(params.aad.unwrap_or_default()),
                        &mut buffer,
                    )
                    .map_err(|_| KeyError::Decrypt)?;
                Ok(SecretBytes::from_slice(plaintext))
            }
            _ => {
                if params.aad.is_some() {
                    return Err(unexpected("aad", name));
                }
                if params.tag.is_some() {
                    return Err(unexpected("tag", name));
                }
                let iv: [u8; AES_BLOCK_LEN] =
                    iv.try_into().map_err(|_| bad_len("iv", iv.len(), name))?;
                if ciphertext.is_empty() || ciphertext.len() % AES_BLOCK_LEN != 0 {
                    return Err(bad_len("ciphertext", ciphertext.len(), name));
                }
                let context = DecryptionContext::Iv128(iv.into());
                let mut buffer = Zeroizing::new(ciphertext.to_vec());
                let plaintext = if is_padded(alg) {
                    PaddedBlockDecryptingKey::cbc_pkcs7(self.cipher_key()?)
                        .and_then(|key| key.decrypt(&mut buffer, context).map(|p| p.len()))
                } else {
                    DecryptingKey::cbc(self.cipher_key()?)
                        .and_then(|key| key.decrypt(&mut buffer, context).map(|p| p.len()))
                }
                .map_err(|_| KeyError::Decrypt)?;
                buffer.truncate(plaintext);
                Ok(SecretBytes::from_slice(&buffer))
            }
        }
    }

    pub(super) fn wrap(&self, alg: WrapAlgorithm, key: &[u8]) -> Result<Vec<u8>, KeyError> {
        let name = alg.name();
        if let Some(len) = alg.aes_key_len() {
            self.require_len(Some(len))?;
        }
        let padded = alg == WrapAlgorithm::AesKwPad;
        if padded {
            if key.is_empty() || key.len() > kw::MAX_INPUT_LEN {
                return Err(bad_len("key", key.len(), name));
            }
        } else if key.len() < 16 || key.len() % 8 != 0 || key.len() > kw::MAX_INPUT_LEN {
            return Err(bad_len("key", key.len(), name));
        }
        let mut out = vec![0u8; key.len().div_ceil(8) * 8 + 8];
        let len = match self.library_kek()? {
            Some(kek) if padded => kek.wrap_with_padding(key, &mut out).map(|o| o.len()),
            Some(kek) => kek.wrap(key, &mut out).map(|o| o.len()),
            None => {
                let block = kw::AesBlock::new(self.cipher_key()?, self.cipher_key()?)?;
                return if padded {
                    kw::wrap_padded(&block, key)
                } else {
                    kw::wrap(&block, key)
                };
            }
        }
        .map_err(|_| KeyError::Internal)?;
        out.truncate(len);
        Ok(out)
    }

    pub(super) fn unwrap(
        &self,
        alg: WrapAlgorithm,
        wrapped: &[u8],
    ) -> Result<SecretBytes, KeyError> {
        let name = alg.name();
        if let Some(len) = alg.aes_key_len() {
            self.require_len(Some(len))?;
        }
        let padded = alg == WrapAlgorithm::AesKwPad;
        let min = if padded { 16 } else { 24 };
        if wrapped.len() < min || wrapped.len() % 8 != 0 || wrapped.len() > kw::MAX_INPUT_LEN + 8 {
            return Err(bad_len("wrapped key", wrapped.len(), name));
        }
        let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
        let len = match self.library_kek()? {
            Some(kek) if padded => kek.unwrap_with_padding(wrapped, &mut out).map(|o| o.len()),
            Some(kek) => kek.unwrap(wrapped, &mut out).map(|o| o.len()),
            None => {
                let block = kw::AesBlock::new(self.cipher_key()?, self.cipher_key()?)?;
                return if padded {
                    kw::unwrap_padded(&block, wrapped)
                } else {
                    kw::unwrap(&block, wrapped)
                };
            }
        }
        .map_err(|_| KeyError::Decrypt)?;
        out.truncate(len);
        Ok(SecretBytes::from_slice(&out))
    }

    /// aws-lc's key-encryption key for 128- and 256-bit keys; `None` for 192-bit keys.
    fn library_kek(&self) -> Result<Option<AesKek>, KeyError> {
        let cipher = match self.0.len() {
            16 => &key_wrap::AES_128,
            32 => &key_wrap::AES_256,
            _ => return Ok(None),
        };
        AesKek::new(cipher, &self.0)
            .map(Some)
            .map_err(|_| KeyError::Internal)
    }
}

fn is_padded(alg: EncryptionAlgorithm) -> bool {
    matches!(
        alg,
        EncryptionAlgorithm::A128CbcPad
            | EncryptionAlgorithm::A192CbcPad
            | EncryptionAlgorithm::A256CbcPad
    )
}
