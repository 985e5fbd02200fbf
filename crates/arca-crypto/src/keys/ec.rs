//! Elliptic-curve keys (P-256, secp256k1, P-384, P-521): generation, import from JWK `x`, `y`,
//! `d`, and ECDSA over a precomputed digest with JWS fixed-width `r || s` signatures.

use aws_lc_rs::digest::Digest;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};

use super::{Curve, KeyError};
use crate::SecretBytes;

/// An EC public key: the curve and the uncompressed point `0x04 || x || y`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EcPublic {
    pub(super) curve: Curve,
    point: Vec<u8>,
}

/// An EC private key.
pub(super) struct EcPrivate {
    curve: Curve,
    pair: EcdsaKeyPair,
    public: EcPublic,
}

fn invalid(field: &'static str) -> KeyError {
    KeyError::InvalidKey { field }
}

/// `bytes` as exactly `len` big-endian bytes: shorter values are left-padded with zeros, longer
/// ones are refused unless the excess is leading zeros.
fn fixed_width(bytes: &[u8], len: usize, field: &'static str) -> Result<Vec<u8>, KeyError> {
    let trimmed = crate::pki::der::strip_leading_zeros(bytes);
    if trimmed.len() > len || bytes.is_empty() {
        return Err(invalid(field));
    }
    let mut out = vec![0u8; len - trimmed.len()];
    out.extend_from_slice(trimmed);
    Ok(out)
}

impl EcPublic {
    /// A public key from JWK `x` and `y`; the point must lie on `curve`.
    pub(super) fn from_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let len = curve.field_len();
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(0x04);
        point.extend_from_slice(&fixed_width(x, len, "x")?);
        point.extend_from_slice(&fixed_width(y, len, "y")?);
        // Parsing checks the point is on the curve.
        UnparsedPublicKey::new(curve.verification(), &point)
            .parse()
            .map_err(|_| invalid("x, y"))?;
        Ok(EcPublic { curve, point })
    }

    /// The uncompressed point `0x04 || x || y`.
    pub(super) fn point(&self) -> &[u8] {
        &self.point
    }

    /// The JWK `x` and `y`, each the curve's field length.
    pub(super) fn coordinates(&self) -> (&[u8], &[u8]) {
        let len = self.curve.field_len();
        let xy = self.point.get(1..).unwrap_or_default();
        xy.split_at(len.min(xy.len()))
    }

    /// Verifies a fixed-width signature over a precomputed digest (algorithm, curve and digest
    /// length already checked by the caller).
    pub(super) fn verify_digest(&self, digest: &Digest, signature: &[u8]) -> bool {
        UnparsedPublicKey::new(self.curve.verification(), &self.point)
            .verify_digest(digest, signature)
            .is_ok()
    }
}

impl EcPrivate {
    /// A fresh key on `curve`.
    pub(super) fn generate(curve: Curve) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::generate(curve.signing()).map_err(|_| KeyError::Internal)?;
        Self::from_pair(curve, pair)
    }

    /// Imports a key from JWK `x`, `y` and `d`; the public point must match the private scalar.
    pub(super) fn from_components(
        curve: Curve,
        x: &[u8],
        y: &[u8],
        d: &SecretBytes,
    ) -> Result<Self, KeyError> {
        let public = EcPublic::from_coordinates(curve, x, y)?;
        let d = SecretBytes::new(fixed_width(d.expose(), curve.field_len(), "d")?);
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            curve.signing(),
            d.expose(),
            &public.point,
        )
        .map_err(|_| invalid("d"))?;
        Self::from_pair(curve, pair)
    }

    /// Loads a key from PKCS#8 (as [`EcPrivate::to_pkcs8`] writes it).
    pub(super) fn from_pkcs8(curve: Curve, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(curve.signing(), pkcs8).map_err(|_| invalid("PKCS#8"))?;
        Self::from_pair(curve, pair)
    }

    fn from_pair(curve: Curve, pair: EcdsaKeyPair) -> Result<Self, KeyError> {
        let public = EcPublic {
            curve,
            point: pair.public_key().as_ref().to_vec(),
        };
        if public.point.len() != 1 + 2 * curve.field_len() {
            return Err(KeyError::Internal);
        }
        Ok(EcPrivate {
            curve,
            pair,
            public,
        })
    }

    pub(super) fn curve(&self) -> Curve {
        self.curve
    }

    pub(super) fn public(&self) -> &EcPublic {
        &self.public
    }

    /// The key as PKCS#8 DER, for sealed storage.
    pub(super) fn to_pkcs8(&self) -> Result<SecretBytes, KeyError> {
        let document = self.pair.to_pkcs8v1().map_err(|_| KeyError::Internal)?;
        Ok(SecretBytes::from_slice(document.as_ref()))
    }

    /// Signs a precomputed digest, giving `r || s` at the curve's field length.
    pub(super) fn sign_digest(&self, digest: &Digest) -> Result<Vec<u8>, KeyError> {
        let signature = self
            .pair
            .sign_digest(digest)
            .map_err(|_| KeyError::Internal)?;
        Ok(signature.as_ref().to_vec())
    }
}
