//! AES-256-GCM helpers shared by the key file, the root key, the keyring and record envelopes.
//!
//! Every seal draws a fresh random 96-bit nonce. Plaintext is only ever copied into buffers whose
//! capacity is reserved up front (so no reallocation leaves a stray copy behind) and that are
//! zeroized if sealing fails; opened plaintext goes straight into a [`SecretBytes`].

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use zeroize::{Zeroize, Zeroizing};

use crate::seal::random::random_bytes;
use crate::{CryptoError, SecretBytes};

/// Length of an AES-256 key.
pub(crate) const KEY_LEN: usize = 32;
/// Length of the GCM authentication tag.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes a seal adds to the plaintext: the nonce and the tag.
pub(crate) const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Builds an AES-256-GCM key from raw bytes.
pub(crate) fn key_from_bytes(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::InvalidKey)?;
    Ok(LessSafeKey::new(unbound))
}

/// Appends `nonce || ciphertext || tag` to `out`, which may already hold a header.
pub(crate) fn seal_append(
    key: &LessSafeKey,
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let nonce = random_bytes::<NONCE_LEN>()?;
    out.reserve_exact(OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let sealed = out.get_mut(start..).map(|body| {
        key.seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
    });
    match sealed {
        Some(Ok(tag)) => {
            out.extend_from_slice(tag.as_ref());
            Ok(())
        }
        _ => {
            // The buffer may still hold plaintext: wipe it before giving up.
            out.zeroize();
            Err(CryptoError::Seal)
        }
    }
}

/// Opens `nonce || ciphertext || tag` produced by [`seal_append`] with the same associated data.
pub(crate) fn open(
    key: &LessSafeKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if sealed.len() < OVERHEAD {
        return Err(CryptoError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let plaintext_len = key
        .open_in_place(nonce, Aad::from(aad), buffer.as_mut_slice())
        .map_err(|_| CryptoError::Open)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(SecretBytes::new(std::mem::take(&mut *buffer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_binds_aad() {
        let key = key_from_bytes(&[7u8; KEY_LEN]).unwrap();
        let mut out = b"hdr".to_vec();
        seal_append(&key, b"aad", b"plaintext", &mut out).unwrap();
        assert_eq!(out.len(), 3 + OVERHEAD + 9);
        let body = &out[3..];
        assert_eq!(open(&key, b"aad", body).unwrap().expose(), b"plaintext");
        assert!(matches!(open(&key, b"aaD", body), Err(CryptoError::Open)));
        assert!(matches!(
            open(&key, b"aad", &body[..OVERHEAD - 1]),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn key_of_wrong_length_is_refused() {
        assert!(matches!(
            key_from_bytes(&[0u8; 16]),
            Err(CryptoError::InvalidKey)
        ));
    }
}
