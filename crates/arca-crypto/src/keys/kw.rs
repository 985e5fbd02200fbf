//! AES key wrap (RFC 3394) and key wrap with padding (RFC 5649), written out over the AES block
//! cipher, for key sizes aws-lc-rs's own key wrap does not take (192 bits). The integrity check
//! compares in constant time; every unwrap failure is the same [`KeyError::Decrypt`].

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use zeroize::Zeroizing;

use super::KeyError;
use crate::SecretBytes;

/// Longest key this module wraps: ample for any private key Arca holds.
pub(super) const MAX_INPUT_LEN: usize = 64 * 1024;
/// RFC 3394 default initial value.
const IV_3394: [u8; 8] = [0xa6; 8];
/// RFC 5649 alternative initial value prefix.
const AIV_5649: [u8; 4] = [0xa6, 0x59, 0x59, 0xa6];

/// One AES key, able to encrypt and decrypt single blocks.
pub(super) struct AesBlock {
    encrypt: EncryptingKey,
    decrypt: DecryptingKey,
}

impl AesBlock {
    /// Two unbound copies of the same key: one becomes the encrypting, one the decrypting key.
    pub(super) fn new(
        for_encrypt: UnboundCipherKey,
        for_decrypt: UnboundCipherKey,
    ) -> Result<Self, KeyError> {
        Ok(AesBlock {
            encrypt: EncryptingKey::ecb(for_encrypt).map_err(|_| KeyError::Internal)?,
            decrypt: DecryptingKey::ecb(for_decrypt).map_err(|_| KeyError::Internal)?,
        })
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) -> Result<(), KeyError> {
        self.encrypt
            .less_safe_encrypt(block, EncryptionContext::None)
            .map(|_| ())
            .map_err(|_| KeyError::Internal)
    }

    fn decrypt_block(&self, block: &mut [u8; 16]) -> Result<(), KeyError> {
        self.decrypt
            .decrypt(block, DecryptionContext::None)
            .map(|_| ())
            .map_err(|_| KeyError::Internal)
    }
}

/// The wrapping function W of RFC 3394 §2.2.1 with initial value `iv`, over `plaintext` of at
/// least two semiblocks (a multiple of 8 bytes, checked by the callers).
fn w(block: &AesBlock, iv: [u8; 8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let n = plaintext.len() / 8;
    let mut a = iv;
    let mut r = Zeroizing::new(plaintext.to_vec());
    let mut b = Zeroizing::new([0u8; 16]);
    for j in 0..6u64 {
        for (i, semiblock) in r.chunks_exact_mut(8).enumerate() {
            b[..8].copy_from_slice(&a);
            b[8..].copy_from_slice(semiblock);
            block.encrypt_block(&mut b)?;
            let t = (n as u64) * j + (i as u64 + 1);
            for (k, byte) in t.to_be_bytes().iter().enumerate() {
                a[k] = b[k] ^ byte;
            }
            semiblock.copy_from_slice(&b[8..]);
        }
    }
    let mut out = Vec::with_capacity(8 + r.len());
    out.extend_from_slice(&a);
    out.extend_from_slice(&r);
    Ok(out)
}

/// The unwrapping function W⁻¹: the recovered initial value and the plaintext semiblocks.
fn w_inverse(
    block: &AesBlock,
    ciphertext: &[u8],
) -> Result<([u8; 8], Zeroizing<Vec<u8>>), KeyError> {
    let (head, rest) = ciphertext
        .split_first_chunk::<8>()
        .ok_or(KeyError::Decrypt)?;
    let n = rest.len() / 8;
    let mut a = *head;
    let mut r = Zeroizing::new(rest.to_vec());
    let mut b = Zeroizing::new([0u8; 16]);
    for j in (0..6u64).rev() {
        for (i, semiblock) in r.chunks_exact_mut(8).enumerate().rev() {
            let t = (n as u64) * j + (i as u64 + 1);
            for (k, byte) in t.to_be_bytes().iter().enumerate() {
                b[k] = a[k] ^ byte;
            }
            b[8..].copy_from_slice(semiblock);
            block.decrypt_block(&mut b)?;
            a.copy_from_slice(&b[..8]);
            semiblock.copy_from_slice(&b[8..]);
        }
    }
    Ok((a, r))
}

/// RFC 3394 key wrap: `key` must be at least 16 bytes and a multiple of 8.
pub(super) fn wrap(block: &AesBlock, key: &[u8]) -> Result<Vec<u8>, KeyError> {
    w(block, IV_3394, key)
}

/// RFC 3394 key unwrap.
pub(super) fn unwrap(block: &AesBlock, wrapped: &[u8]) -> Result<SecretBytes, KeyError> {
    if wrapped.len() < 24 || wrapped.len() % 8 != 0 {
        return Err(KeyError::Decrypt);
    }
    let (a, r) = w_inverse(block, wrapped)?;
    if !crate::ct_eq(&a, &IV_3394) {
        return Err(KeyError::Decrypt);
    }
    Ok(SecretBytes::from_slice(&r))
}

/// RFC 5649 key wrap with padding: any `key` of 1 byte or more.
pub(super) fn wrap_padded(block: &AesBlock, key: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mli = u32::try_from(key.len()).map_err(|_| KeyError::Internal)?;
    let mut aiv = [0u8; 8];
    aiv[..4].copy_from_slice(&AIV_5649);
    aiv[4..].copy_from_slice(&mli.to_be_bytes());
    let mut padded = Zeroizing::new(key.to_vec());
    padded.resize(key.len().div_ceil(8) * 8, 0);
    if padded.len() == 8 {
        let mut b = Zeroizing::new([0u8; 16]);
        b[..8].copy_from_slice(&aiv);
        b[8..].copy_from_slice(&padded);
        block.encrypt_block(&mut b)?;
        return Ok(b.to_vec());
    }
    w(block, aiv, &padded)
}

/// RFC 5649 key unwrap with padding.
pub(super) fn unwrap_padded(block: &AesBlock, wrapped: &[u8]) -> Result<SecretBytes, KeyError> {
    if wrapped.len() < 16 || wrapped.len() % 8 != 0 {
        return Err(KeyError::Decrypt);
    }
    let (a, p) = if wrapped.len() == 16 {
        let mut b = Zeroizing::new([0u8; 16]);
        b.copy_from_slice(wrapped);
        block.decrypt_block(&mut b)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        (a, Zeroizing::new(b[8..].to_vec()))
    } else {
        w_inverse(block, wrapped)?
    };
    // Check the prefix, the length and the zero padding together, without early exits on the
    // secret-dependent parts.
    let mli = u32::from_be_bytes([a[4], a[5], a[6], a[7]]) as usize;
    let length_ok = mli <= p.len() && mli + 8 > p.len() && mli > 0;
    let prefix_ok = crate::ct_eq(&a[..4], &AIV_5649);
    let padding = p.get(mli.min(p.len())..).unwrap_or_default();
    let padding_ok = crate::ct_eq(padding, &[0u8; 8][..padding.len().min(8)]);
    if !(length_ok & prefix_ok & padding_ok) {
        return Err(KeyError::Decrypt);
    }
    Ok(SecretBytes::from_slice(p.get(..mli).unwrap_or_default()))
}
