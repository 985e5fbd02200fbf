//! The names the keys API speaks: key types, curves and the JWA algorithm identifiers of signing,
//! encryption and key wrapping, with the facts about each that the operations check.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, ECDSA_P256K1_SHA256_FIXED,
    ECDSA_P256K1_SHA256_FIXED_SIGNING, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED, ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED,
    ECDSA_P521_SHA512_FIXED_SIGNING,
};

/// A key's type, as the JWK `kty` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA (`RSA`).
    Rsa,
    /// Elliptic curve (`EC`).
    Ec,
    /// Symmetric: an AES key (`oct`).
    Oct,
}

impl KeyType {
    /// The JWK `kty` value.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa => "RSA",
            KeyType::Ec => "EC",
            KeyType::Oct => "oct",
        }
    }
}

/// An elliptic curve, as the JWK `crv` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// secp256k1 (`P-256K`; `SECP256K1` is accepted as an alias).
    P256K,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
}

impl Curve {
    /// Every supported curve.
    pub const ALL: [Curve; 4] = [Curve::P256, Curve::P256K, Curve::P384, Curve::P521];

    /// The JWK `crv` value.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P256K => "P-256K",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// The curve a JWK `crv` value names, if supported.
    pub fn from_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-256K" | "SECP256K1" => Some(Curve::P256K),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// The arcs of the curve's OBJECT IDENTIFIER (RFC 5480; secp256k1 from SEC 2).
    pub fn oid(self) -> &'static [u64] {
        match self {
            Curve::P256 => &[1, 2, 840, 10_045, 3, 1, 7],
            Curve::P256K => &[1, 3, 132, 0, 10],
            Curve::P384 => &[1, 3, 132, 0, 34],
            Curve::P521 => &[1, 3, 132, 0, 35],
        }
    }

    /// Length of one coordinate and of the private scalar, in bytes.
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 | Curve::P256K => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The signature algorithm that belongs to this curve.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Curve::P256 => SignatureAlgorithm::Es256,
            Curve::P256K => SignatureAlgorithm::Es256K,
            Curve::P384 => SignatureAlgorithm::Es384,
            Curve::P521 => SignatureAlgorithm::Es512,
        }
    }

    pub(super) fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P256K => &ECDSA_P256K1_SHA256_FIXED_SIGNING,
            Curve::P384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
            Curve::P521 => &ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    pub(super) fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &ECDSA_P256_SHA256_FIXED,
            Curve::P256K => &ECDSA_P256K1_SHA256_FIXED,
            Curve::P384 => &ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &ECDSA_P521_SHA512_FIXED,
        }
    }
}

/// A JWS signature algorithm over a precomputed digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt length 32).
    Ps256,
    /// RSASSA-PSS with SHA-384 (MGF1 SHA-384, salt length 48).
    Ps384,
    /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, salt length 64).
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on secp256k1 with SHA-256.
    Es256K,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
}

impl SignatureAlgorithm {
    /// Every supported signature algorithm.
    pub const ALL: [SignatureAlgorithm; 10] = [
        SignatureAlgorithm::Rs256,
        SignatureAlgorithm::Rs384,
        SignatureAlgorithm::Rs512,
        SignatureAlgorithm::Ps256,
        SignatureAlgorithm::Ps384,
        SignatureAlgorithm::Ps512,
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es256K,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
    ];

    /// The JWA `alg` value.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Rs256 => "RS256",
            SignatureAlgorithm::Rs384 => "RS384",
            SignatureAlgorithm::Rs512 => "RS512",
            SignatureAlgorithm::Ps256 => "PS256",
            SignatureAlgorithm::Ps384 => "PS384",
            SignatureAlgorithm::Ps512 => "PS512",
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::Es256K => "ES256K",
            SignatureAlgorithm::Es384 => "ES384",
            SignatureAlgorithm::Es512 => "ES512",
        }
    }

    /// The algorithm a JWA `alg` value names, if supported.
    pub fn from_name(name: &str) -> Option<SignatureAlgorithm> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The key type that signs with this algorithm.
    pub fn key_type(self) -> KeyType {
        match self {
            SignatureAlgorithm::Es256
            | SignatureAlgorithm::Es256K
            | SignatureAlgorithm::Es384
            | SignatureAlgorithm::Es512 => KeyType::Ec,
            _ => KeyType::Rsa,
        }
    }

    /// The curve an ECDSA algorithm requires; `None` for RSA algorithms.
    pub fn curve(self) -> Option<Curve> {
        match self {
            SignatureAlgorithm::Es256 => Some(Curve::P256),
            SignatureAlgorithm::Es256K => Some(Curve::P256K),
            SignatureAlgorithm::Es384 => Some(Curve::P384),
            SignatureAlgorithm::Es512 => Some(Curve::P521),
            _ => None,
        }
    }

    /// The digest the caller must have computed, and so its length.
    pub(super) fn digest(self) -> &'static digest::Algorithm {
        match self {
            SignatureAlgorithm::Rs256
            | SignatureAlgorithm::Ps256
            | SignatureAlgorithm::Es256
            | SignatureAlgorithm::Es256K => &digest::SHA256,
            SignatureAlgorithm::Rs384 | SignatureAlgorithm::Ps384 | SignatureAlgorithm::Es384 => {
                &digest::SHA384
            }
            SignatureAlgorithm::Rs512 | SignatureAlgorithm::Ps512 | SignatureAlgorithm::Es512 => {
                &digest::SHA512
            }
        }
    }

    /// Length in bytes of the digest this algorithm signs.
    pub fn digest_len(self) -> usize {
        self.digest().output_len()
    }
}

/// A JWA content or key encryption algorithm for the encrypt/decrypt operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncryptionAlgorithm {
    /// RSAES-PKCS1-v1_5 (`RSA1_5`).
    Rsa1_5,
    /// RSAES-OAEP with SHA-1 and MGF1 SHA-1 (`RSA-OAEP`).
    RsaOaep,
    /// RSAES-OAEP with SHA-256 and MGF1 SHA-256 (`RSA-OAEP-256`).
    RsaOaep256,
    /// AES-128-GCM (`A128GCM`).
    A128Gcm,
    /// AES-192-GCM (`A192GCM`).
    A192Gcm,
    /// AES-256-GCM (`A256GCM`).
    A256Gcm,
    /// AES-128-CBC without padding (`A128CBC`): input must be whole blocks.
    A128Cbc,
    /// AES-192-CBC without padding (`A192CBC`).
    A192Cbc,
    /// AES-256-CBC without padding (`A256CBC`).
    A256Cbc,
    /// AES-128-CBC with PKCS#7 padding (`A128CBCPAD`).
    A128CbcPad,
    /// AES-192-CBC with PKCS#7 padding (`A192CBCPAD`).
    A192CbcPad,
    /// AES-256-CBC with PKCS#7 padding (`A256CBCPAD`).
    A256CbcPad,
}

impl EncryptionAlgorithm {
    /// Every supported encryption algorithm.
    pub const ALL: [EncryptionAlgorithm; 12] = [
        EncryptionAlgorithm::Rsa1_5,
        EncryptionAlgorithm::RsaOaep,
        EncryptionAlgorithm::RsaOaep256,
        EncryptionAlgorithm::A128Gcm,
        EncryptionAlgorithm::A192Gcm,
        EncryptionAlgorithm::A256Gcm,
        EncryptionAlgorithm::A128Cbc,
        EncryptionAlgorithm::A192Cbc,
        EncryptionAlgorithm::A256Cbc,
        EncryptionAlgorithm::A128CbcPad,
        EncryptionAlgorithm::A192CbcPad,
        EncryptionAlgorithm::A256CbcPad,
    ];

    /// The JWA / Key Vault name.
    pub fn name(self) -> &'static str {
        match self {
            EncryptionAlgorithm::Rsa1_5 => "RSA1_5",
            EncryptionAlgorithm::RsaOaep => "RSA-OAEP",
            EncryptionAlgorithm::RsaOaep256 => "RSA-OAEP-256",
            EncryptionAlgorithm::A128Gcm => "A128GCM",
            EncryptionAlgorithm::A192Gcm => "A192GCM",
            EncryptionAlgorithm::A256Gcm => "A256GCM",
            EncryptionAlgorithm::A128Cbc => "A128CBC",
            EncryptionAlgorithm::A192Cbc => "A192CBC",
            EncryptionAlgorithm::A256Cbc => "A256CBC",
            EncryptionAlgorithm::A128CbcPad => "A128CBCPAD",
            EncryptionAlgorithm::A192CbcPad => "A192CBCPAD",
            EncryptionAlgorithm::A256CbcPad => "A256CBCPAD",
        }
    }

    /// The algorithm a name stands for, if supported.
    pub fn from_name(name: &str) -> Option<EncryptionAlgorithm> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The key type that encrypts with this algorithm.
    pub fn key_type(self) -> KeyType {
        match self {
            EncryptionAlgorithm::Rsa1_5
            | EncryptionAlgorithm::RsaOaep
            | EncryptionAlgorithm::RsaOaep256 => KeyType::Rsa,
            _ => KeyType::Oct,
        }
    }

    /// The AES key length in bytes an `oct` algorithm requires; `None` for RSA.
    pub fn aes_key_len(self) -> Option<usize> {
        match self {
            EncryptionAlgorithm::A128Gcm
            | EncryptionAlgorithm::A128Cbc
            | EncryptionAlgorithm::A128CbcPad => Some(16),
            EncryptionAlgorithm::A192Gcm
            | EncryptionAlgorithm::A192Cbc
            | EncryptionAlgorithm::A192CbcPad => Some(24),
            EncryptionAlgorithm::A256Gcm
            | EncryptionAlgorithm::A256Cbc
            | EncryptionAlgorithm::A256CbcPad => Some(32),
            _ => None,
        }
    }
}

/// A key wrapping algorithm for the wrapKey/unwrapKey operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WrapAlgorithm {
    /// RSAES-PKCS1-v1_5 (`RSA1_5`).
    Rsa1_5,
    /// RSAES-OAEP with SHA-1 (`RSA-OAEP`).
    RsaOaep,
    /// RSAES-OAEP with SHA-256 (`RSA-OAEP-256`).
    RsaOaep256,
    /// AES key wrap, RFC 3394, with a 128-bit key (`A128KW`).
    A128Kw,
    /// AES key wrap, RFC 3394, with a 192-bit key (`A192KW`).
    A192Kw,
    /// AES key wrap, RFC 3394, with a 256-bit key (`A256KW`).
    A256Kw,
    /// AES key wrap, RFC 3394, with whatever size the key has (`CKM_AES_KEY_WRAP`).
    AesKw,
    /// AES key wrap with padding, RFC 5649, any key size (`CKM_AES_KEY_WRAP_PAD`).
    AesKwPad,
}

impl WrapAlgorithm {
    /// Every supported wrapping algorithm.
    pub const ALL: [WrapAlgorithm; 8] = [
        WrapAlgorithm::Rsa1_5,
        WrapAlgorithm::RsaOaep,
        WrapAlgorithm::RsaOaep256,
        WrapAlgorithm::A128Kw,
        WrapAlgorithm::A192Kw,
        WrapAlgorithm::A256Kw,
        WrapAlgorithm::AesKw,
        WrapAlgorithm::AesKwPad,
    ];

    /// The JWA / Key Vault name.
    pub fn name(self) -> &'static str {
        match self {
            WrapAlgorithm::Rsa1_5 => "RSA1_5",
            WrapAlgorithm::RsaOaep => "RSA-OAEP",
            WrapAlgorithm::RsaOaep256 => "RSA-OAEP-256",
            WrapAlgorithm::A128Kw => "A128KW",
            WrapAlgorithm::A192Kw => "A192KW",
            WrapAlgorithm::A256Kw => "A256KW",
            WrapAlgorithm::AesKw => "CKM_AES_KEY_WRAP",
            WrapAlgorithm::AesKwPad => "CKM_AES_KEY_WRAP_PAD",
        }
    }

    /// The algorithm a name stands for, if supported.
    pub fn from_name(name: &str) -> Option<WrapAlgorithm> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The key type that wraps with this algorithm.
    pub fn key_type(self) -> KeyType {
        match self {
            WrapAlgorithm::Rsa1_5 | WrapAlgorithm::RsaOaep | WrapAlgorithm::RsaOaep256 => {
                KeyType::Rsa
            }
            _ => KeyType::Oct,
        }
    }

    /// The AES key length in bytes the algorithm requires, where it names one.
    pub fn aes_key_len(self) -> Option<usize> {
        match self {
            WrapAlgorithm::A128Kw => Some(16),
            WrapAlgorithm::A192Kw => Some(24),
            WrapAlgorithm::A256Kw => Some(32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in SignatureAlgorithm::ALL {
            assert_eq!(SignatureAlgorithm::from_name(alg.name()), Some(alg));
        }
        for alg in EncryptionAlgorithm::ALL {
            assert_eq!(EncryptionAlgorithm::from_name(alg.name()), Some(alg));
        }
        for alg in WrapAlgorithm::ALL {
            assert_eq!(WrapAlgorithm::from_name(alg.name()), Some(alg));
        }
        for curve in Curve::ALL {
            assert_eq!(Curve::from_name(curve.name()), Some(curve));
            assert_eq!(curve.signature_algorithm().curve(), Some(curve));
        }
        assert_eq!(Curve::from_name("SECP256K1"), Some(Curve::P256K));
        assert_eq!(SignatureAlgorithm::from_name("HS256"), None);
        assert_eq!(SignatureAlgorithm::from_name("none"), None);
    }

    #[test]
    fn digest_lengths() {
        assert_eq!(SignatureAlgorithm::Rs256.digest_len(), 32);
        assert_eq!(SignatureAlgorithm::Ps384.digest_len(), 48);
        assert_eq!(SignatureAlgorithm::Es512.digest_len(), 64);
        assert_eq!(SignatureAlgorithm::Es256K.digest_len(), 32);
    }
}
