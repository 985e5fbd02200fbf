//! Key release's protection of exported key material: the `enc` algorithms of Key Vault's
//! `KeyReleaseParameters` (`CKM_RSA_AES_KEY_WRAP`, `RSA_AES_KEY_WRAP_256`,
//! `RSA_AES_KEY_WRAP_384`), each PKCS#11's `CKM_RSA_AES_KEY_WRAP`: a fresh AES-256 key encrypted
//! to the target's RSA key with OAEP (SHA-1, SHA-256 or SHA-384, MGF1 with the same hash),
//! followed by the released key wrapped under that AES key with RFC 5649 key wrap with padding.
//! The released key is PKCS#8 DER for RSA and EC keys and the raw bytes for `oct` keys, as Azure's
//! secure-key-release samples read it.
//!
//! Must not: keep the AES key or the serialized private key beyond the call (both live in
//! zeroizing buffers), accept a target that is not an RSA key of at least 2048 bits, or put any
//! byte of either into an error.

use super::oct::OctKey;
use super::rsa::Padding;
use super::{KeyError, Private, PrivateKey, Public, PublicKey, WrapAlgorithm};
use crate::SecretBytes;

/// How a release protects the key it exports (`enc`); Key Vault's default is
/// [`ReleaseEncryption::CkmRsaAesKeyWrap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseEncryption {
    /// `CKM_RSA_AES_KEY_WRAP`: RSA-OAEP with SHA-1, then AES key wrap with padding.
    CkmRsaAesKeyWrap,
    /// `RSA_AES_KEY_WRAP_256`: RSA-OAEP with SHA-256, then AES key wrap with padding.
    RsaAesKeyWrap256,
    /// `RSA_AES_KEY_WRAP_384`: RSA-OAEP with SHA-384, then AES key wrap with padding.
    RsaAesKeyWrap384,
}

impl ReleaseEncryption {
    /// Every algorithm, in Key Vault's order.
    pub const ALL: [ReleaseEncryption; 3] = [
        ReleaseEncryption::CkmRsaAesKeyWrap,
        ReleaseEncryption::RsaAesKeyWrap256,
        ReleaseEncryption::RsaAesKeyWrap384,
    ];

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ReleaseEncryption::CkmRsaAesKeyWrap => "CKM_RSA_AES_KEY_WRAP",
            ReleaseEncryption::RsaAesKeyWrap256 => "RSA_AES_KEY_WRAP_256",
            ReleaseEncryption::RsaAesKeyWrap384 => "RSA_AES_KEY_WRAP_384",
        }
    }

    /// The algorithm of a wire name (exact spelling).
    pub fn from_name(name: &str) -> Option<ReleaseEncryption> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    fn padding(self) -> Padding {
        match self {
            ReleaseEncryption::CkmRsaAesKeyWrap => Padding::OaepSha1,
            ReleaseEncryption::RsaAesKeyWrap256 => Padding::OaepSha256,
            ReleaseEncryption::RsaAesKeyWrap384 => Padding::OaepSha384,
        }
    }
}

impl PublicKey {
    /// Bits of an RSA modulus; `None` for an EC key.
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.0 {
            Public::Rsa(key) => Some(key.bits()),
            Public::Ec(_) => None,
        }
    }
}

impl PrivateKey {
    /// The key as a release exports it: PKCS#8 DER for RSA and EC, the raw bytes for `oct`.
    fn release_material(&self) -> Result<SecretBytes, KeyError> {
        match &self.0 {
            Private::Rsa(key) => key.to_pkcs8(),
            Private::Ec(key) => key.to_pkcs8(),
            Private::Oct(key) => Ok(key.to_secret()),
        }
    }

    /// This key, wrapped for `target` (an RSA key of 2048 bits or more) by `enc`:
    /// `RSA-OAEP(target, aes_key) || AES-KWP(aes_key, key)`, with a fresh AES-256 key.
    pub fn wrap_for_release(
        &self,
        target: &PublicKey,
        enc: ReleaseEncryption,
    ) -> Result<Vec<u8>, KeyError> {
        let Public::Rsa(rsa) = &target.0 else {
            return Err(KeyError::InvalidKey {
                field: "target key",
            });
        };
        if rsa.bits() < 2048 {
            return Err(KeyError::BadKeySize {
                kty: "RSA",
                bits: rsa.bits(),
            });
        }
        let transfer = OctKey::generate(256)?;
        let material = self.release_material()?;
        let wrapped = transfer.wrap(WrapAlgorithm::AesKwPad, material.expose())?;
        drop(material);
        let mut out = rsa.encrypt(enc.padding(), transfer.to_secret().expose(), enc.name())?;
        out.extend_from_slice(&wrapped);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Curve;

    /// What a released key's receiver does: RSA-OAEP-decrypt the AES key with its private key,
    /// then unwrap the rest.
    fn receive(target: &PrivateKey, blob: &[u8], enc: ReleaseEncryption) -> SecretBytes {
        let Private::Rsa(rsa) = &target.0 else {
            panic!("the target is RSA")
        };
        let modulus = rsa.public().bits() / 8;
        let (head, rest) = blob.split_at(modulus);
        let aes = rsa.decrypt(enc.padding(), head, enc.name()).unwrap();
        let transfer = OctKey::from_bytes(aes.expose()).unwrap();
        transfer.unwrap(WrapAlgorithm::AesKwPad, rest).unwrap()
    }

    #[test]
    fn every_enc_round_trips_every_key_type() {
        let target = PrivateKey::generate_rsa(2048).unwrap();
        let public = target.public_key().unwrap();
        let keys = [
            PrivateKey::generate_rsa(2048).unwrap(),
            PrivateKey::generate_ec(Curve::P256).unwrap(),
            PrivateKey::generate_oct(256).unwrap(),
        ];
        for key in &keys {
            for enc in ReleaseEncryption::ALL {
                let blob = key.wrap_for_release(&public, enc).unwrap();
                let received = receive(&target, &blob, enc);
                assert_eq!(
                    received.expose(),
                    key.release_material().unwrap().expose(),
                    "{enc:?}"
                );
            }
        }
    }

    #[test]
    fn each_enc_uses_its_own_oaep_hash() {
        let target = PrivateKey::generate_rsa(2048).unwrap();
        let public = target.public_key().unwrap();
        let key = PrivateKey::generate_oct(128).unwrap();
        let blob = key
            .wrap_for_release(&public, ReleaseEncryption::RsaAesKeyWrap384)
            .unwrap();
        let Private::Rsa(rsa) = &target.0 else {
            panic!("the target is RSA")
        };
        let head = &blob[..256];
        for other in [Padding::OaepSha1, Padding::OaepSha256] {
            assert!(rsa.decrypt(other, head, "test").is_err());
        }
    }

    #[test]
    fn an_ec_target_is_refused() {
        let target = PrivateKey::generate_ec(Curve::P256).unwrap();
        let key = PrivateKey::generate_oct(256).unwrap();
        let refused = key.wrap_for_release(
            &target.public_key().unwrap(),
            ReleaseEncryption::CkmRsaAesKeyWrap,
        );
        assert!(matches!(refused, Err(KeyError::InvalidKey { .. })));
    }

    #[test]
    fn names_round_trip() {
        for enc in ReleaseEncryption::ALL {
            assert_eq!(ReleaseEncryption::from_name(enc.name()), Some(enc));
        }
        assert_eq!(ReleaseEncryption::from_name("ckm_rsa_aes_key_wrap"), None);
    }
}
