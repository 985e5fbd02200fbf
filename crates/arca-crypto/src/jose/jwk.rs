//! Other parties' public keys: RSA and EC P-256/P-384 keys read from JWKs, JWK sets (an external
//! OIDC issuer's `jwks_uri` document) and certificates' SubjectPublicKeyInfo, in the form aws-lc-rs
//! verifies.
//!
//! Keys are checked when read, so a key that exists can be used: RSA moduli of 2048 to 8192 bits
//! (the verification range of aws-lc-rs, and of ring before it) with an odd exponent from 3 to
//! 2^33-1, EC points uncompressed and of the curve's length. Whether an EC point lies on its
//! curve is checked by aws-lc-rs at verification (a point that does not never verifies). Nothing
//! here fetches keys; a JWK set comes from the caller. Public keys are not secret, but `Debug`
//! stays short: kind and size.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::jose::jws::algorithm_for;
use crate::pki::der;
use crate::CryptoError;

/// Fewest modulus bits accepted for an RSA key.
const MIN_RSA_BITS: usize = 2048;
/// Most modulus bits accepted for an RSA key (aws-lc-rs verifies up to 8192).
const MAX_RSA_BITS: usize = 8192;
/// Largest RSA public exponent aws-lc-rs accepts.
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;
/// Most entries a JWK set may hold.
const MAX_JWKS_KEYS: usize = 100;

/// rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// secp256r1 (P-256), 1.2.840.10045.3.1.7.
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 (P-384), 1.3.132.0.34.
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// A public key that can verify an external JWS.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA key (RS256/384/512, PS256/384/512).
    Rsa(RsaPublicKey),
    /// An ECDSA key on P-256 (ES256).
    EcP256(EcPublicKey),
    /// An ECDSA key on P-384 (ES384).
    EcP384(EcPublicKey),
}

/// An RSA public key of 2048 to 8192 bits, as the PKCS#1 `RSAPublicKey` DER that aws-lc-rs reads.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    der: Vec<u8>,
    bits: usize,
}

impl RsaPublicKey {
    /// The PKCS#1 `RSAPublicKey` DER (minimal integers, so equal keys have equal bytes).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// From big-endian modulus and exponent (leading zero octets tolerated).
    fn from_components(modulus: &[u8], exponent: &[u8]) -> Result<RsaPublicKey, &'static str> {
        let modulus = der::strip_leading_zeros(modulus);
        let exponent = der::strip_leading_zeros(exponent);
        let Some(&first) = modulus.first() else {
            return Err("the RSA modulus is zero");
        };
        let bits = modulus.len() * 8 - first.leading_zeros() as usize;
        if bits < MIN_RSA_BITS {
            return Err("the RSA key is shorter than 2048 bits");
        }
        if bits > MAX_RSA_BITS {
            return Err("the RSA key is longer than 8192 bits");
        }
        if modulus.last().is_none_or(|&b| b & 1 == 0) {
            return Err("the RSA modulus is even");
        }
        let exponent_value = (exponent.len() <= 8).then(|| {
            exponent
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        });
        match exponent_value {
            Some(e) if (3..=MAX_RSA_EXPONENT).contains(&e) && e & 1 == 1 => {}
            _ => return Err("the RSA public exponent is not supported"),
        }
        let mut content = der::encode_unsigned_integer(modulus);
        content.extend(der::encode_unsigned_integer(exponent));
        Ok(RsaPublicKey {
            der: der::encode(der::TAG_SEQUENCE, &content),
            bits,
        })
    }

    /// From a PKCS#1 `RSAPublicKey` DER, re-encoded minimally.
    fn from_pkcs1(pkcs1: &[u8]) -> Result<RsaPublicKey, &'static str> {
        const MALFORMED: &str = "the RSA public key is malformed";
        let sequence = der::read_only(pkcs1, der::TAG_SEQUENCE).ok_or(MALFORMED)?;
        let parts = der::children(sequence.content).ok_or(MALFORMED)?;
        let [modulus, exponent] = parts.as_slice() else {
            return Err(MALFORMED);
        };
        let modulus = der::unsigned_integer(modulus).ok_or(MALFORMED)?;
        let exponent = der::unsigned_integer(exponent).ok_or(MALFORMED)?;
        Self::from_components(modulus, exponent)
    }
}

/// An EC public key: the uncompressed point `0x04 || x || y` of its curve.
#[derive(Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    point: Vec<u8>,
}

impl EcPublicKey {
    /// The uncompressed point.
    pub fn point(&self) -> &[u8] {
        &self.point
    }

    /// From an uncompressed point with coordinates of `coordinate_len` octets.
    fn from_point(point: &[u8], coordinate_len: usize) -> Result<EcPublicKey, &'static str> {
        if point.len() != 1 + 2 * coordinate_len || point.first() != Some(&0x04) {
            return Err("the EC public key is not an uncompressed point of its curve");
        }
        Ok(EcPublicKey {
            point: point.to_vec(),
        })
    }
}

impl PublicKey {
    /// From a JWK object: `kty` RSA with `n`, `e`; or `kty` EC with `crv` P-256 or P-384, `x`,
    /// `y` (base64url without padding). Private members such as `d` are ignored, never required.
    /// Refuses unknown `kty` or `crv`, bad lengths or encodings, RSA keys outside 2048 to 8192
    /// bits, and an `alg` member naming an algorithm this key cannot verify (for example RS256
    /// on an EC key, or HS256). `kid` and `use` are the JWK set's business ([`JwkSet`]).
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, CryptoError> {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        let bytes = |name: &str| {
            member(name)
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or(CryptoError::InvalidKey)
        };
        let key = match member("kty") {
            Some("RSA") => RsaPublicKey::from_components(&bytes("n")?, &bytes("e")?)
                .map(PublicKey::Rsa)
                .map_err(|_| CryptoError::InvalidKey)?,
            Some("EC") => {
                let coordinate_len = match member("crv") {
                    Some("P-256") => 32,
                    Some("P-384") => 48,
                    _ => return Err(CryptoError::InvalidKey),
                };
                let mut point = vec![0x04];
                for name in ["x", "y"] {
                    let coordinate = bytes(name)?;
                    if coordinate.len() != coordinate_len {
                        return Err(CryptoError::InvalidKey);
                    }
                    point.extend_from_slice(&coordinate);
                }
                let point = EcPublicKey::from_point(&point, coordinate_len)
                    .map_err(|_| CryptoError::InvalidKey)?;
                if coordinate_len == 32 {
                    PublicKey::EcP256(point)
                } else {
                    PublicKey::EcP384(point)
                }
            }
            _ => return Err(CryptoError::InvalidKey),
        };
        match jwk.get("alg") {
            None => {}
            Some(Value::String(alg)) if algorithm_for(alg, &key).is_ok() => {}
            Some(_) => return Err(CryptoError::InvalidKey),
        }
        Ok(key)
    }

    /// From a SubjectPublicKeyInfo: its AlgorithmIdentifier's content and the key bits. The
    /// error is a fixed sentence naming the problem.
    pub(crate) fn from_spki(algorithm: &[u8], key: &[u8]) -> Result<PublicKey, &'static str> {
        const UNSUPPORTED: &str =
            "the public key is not RSA (2048 to 8192 bits), EC P-256 or EC P-384";
        let parts = der::children(algorithm).ok_or(UNSUPPORTED)?;
        let (oid, parameters) = match parts.as_slice() {
            [oid] => (oid, None),
            [oid, parameters] => (oid, Some(parameters)),
            _ => return Err(UNSUPPORTED),
        };
        if oid.tag != der::TAG_OID {
            return Err(UNSUPPORTED);
        }
        match (oid.content, parameters) {
            // RFC 3279 asks for NULL parameters; some encoders omit them.
            (OID_RSA_ENCRYPTION, None) => RsaPublicKey::from_pkcs1(key).map(PublicKey::Rsa),
            (OID_RSA_ENCRYPTION, Some(p)) if p.tag == der::TAG_NULL && p.content.is_empty() => {
                RsaPublicKey::from_pkcs1(key).map(PublicKey::Rsa)
            }
            (OID_EC_PUBLIC_KEY, Some(curve)) if curve.tag == der::TAG_OID => match curve.content {
                OID_P256 => EcPublicKey::from_point(key, 32).map(PublicKey::EcP256),
                OID_P384 => EcPublicKey::from_point(key, 48).map(PublicKey::EcP384),
                _ => Err(UNSUPPORTED),
            },
            _ => Err(UNSUPPORTED),
        }
    }

    /// The bytes aws-lc-rs verifies with: the PKCS#1 DER of an RSA key, the point of an EC key.
    pub(crate) fn verification_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Rsa(key) => key.der(),
            PublicKey::EcP256(key) | PublicKey::EcP384(key) => key.point(),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::Rsa(key) => write!(f, "PublicKey(RSA, {} bits)", key.bits),
            PublicKey::EcP256(_) => f.write_str("PublicKey(EC P-256)"),
            PublicKey::EcP384(_) => f.write_str("PublicKey(EC P-384)"),
        }
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcPublicKey")
            .field("len", &self.point.len())
            .finish_non_exhaustive()
    }
}

/// A parsed JWK set (`{"keys": [...]}`): signature keys with their optional `kid`.
///
/// Entries whose `use` is present and not `sig`, whose `kid` is present and not a string, or
/// that [`PublicKey::from_jwk`] refuses (another `kty` or curve, a short RSA key, ...) are
/// skipped, not errors, so one odd key does not take down an issuer's whole set. A document that
/// is not an object with a `keys` array, one with more than 100 entries, or one that leaves no
/// usable key is an error.
#[derive(Clone)]
pub struct JwkSet {
    keys: Vec<(Option<String>, PublicKey)>,
}

impl JwkSet {
    /// Parses a JWK set document.
    pub fn parse(document: &Value) -> Result<JwkSet, CryptoError> {
        let Some(Value::Array(entries)) = document.as_object().and_then(|d| d.get("keys")) else {
            return Err(CryptoError::InvalidKey);
        };
        if entries.len() > MAX_JWKS_KEYS {
            return Err(CryptoError::InvalidKey);
        }
        let keys: Vec<_> = entries.iter().filter_map(signature_key).collect();
        if keys.is_empty() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(JwkSet { keys })
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key (never true for a set [`JwkSet::parse`] returned).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// With a `kid`: the keys with exactly that `kid`. Without: all keys.
    pub fn keys_for(&self, kid: Option<&str>) -> Vec<&PublicKey> {
        self.keys
            .iter()
            .filter(|(key_id, _)| kid.is_none() || key_id.as_deref() == kid)
            .map(|(_, key)| key)
            .collect()
    }
}

impl fmt::Debug for JwkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwkSet")
            .field("len", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// One JWK set entry as `(kid, key)`, or `None` to skip it.
fn signature_key(jwk: &Value) -> Option<(Option<String>, PublicKey)> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(usage)) if usage == "sig" => {}
        Some(_) => return None,
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return None,
    };
    let key = PublicKey::from_jwk(jwk).ok()?;
    Some((kid, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::x509::TbsCertificate;
    use crate::test_keys::{
        b64, ec_jwk, p256_pair, p384_pair, rsa_jwk, rsa_pair, P256_CERT, RSA1024_CERT, RSA2048_CERT,
    };
    use crate::ClientCertificate;
    use aws_lc_rs::signature::KeyPair as _;
    use serde_json::json;

    #[test]
    fn rsa_jwk_is_the_same_key_as_in_the_certificate() {
        let pair = rsa_pair();
        let from_jwk = PublicKey::from_jwk(&rsa_jwk(&pair)).unwrap();
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        assert_eq!(from_jwk, cert.key);
        // aws-lc-rs's own encoding of the public key agrees byte for byte.
        let PublicKey::Rsa(rsa) = &from_jwk else {
            panic!("not RSA: {from_jwk:?}");
        };
        assert_eq!(rsa.der(), pair.public_key().as_ref());
        assert_eq!(rsa.bits(), 2048);
    }

    #[test]
    fn ec_jwks_are_read_for_both_curves() {
        let p256 = p256_pair();
        let key = PublicKey::from_jwk(&ec_jwk("P-256", p256.public_key().as_ref())).unwrap();
        assert!(matches!(&key, PublicKey::EcP256(k) if k.point() == p256.public_key().as_ref()));
        let cert = ClientCertificate::from_pem(P256_CERT).unwrap();
        assert_eq!(cert.key, key);

        let p384 = p384_pair();
        let key = PublicKey::from_jwk(&ec_jwk("P-384", p384.public_key().as_ref())).unwrap();
        assert!(matches!(&key, PublicKey::EcP384(k) if k.point().len() == 97));
    }

    #[test]
    fn private_members_are_ignored_not_required() {
        let mut jwk = rsa_jwk(&rsa_pair());
        jwk["d"] = json!("AQAB");
        jwk["p"] = json!("AQAB");
        assert!(PublicKey::from_jwk(&jwk).is_ok());
        let mut jwk = ec_jwk("P-256", p256_pair().public_key().as_ref());
        jwk["d"] = json!(b64(&[7; 32]));
        assert!(PublicKey::from_jwk(&jwk).is_ok());
    }

    #[test]
    fn alg_member_must_fit_the_key() {
        let rsa = rsa_jwk(&rsa_pair());
        let ec = ec_jwk("P-256", p256_pair().public_key().as_ref());
        for (jwk, alg, ok) in [
            (&rsa, "RS256", true),
            (&rsa, "PS512", true),
            (&rsa, "ES256", false),
            (&rsa, "RSA-OAEP", false),
            (&rsa, "HS256", false),
            (&ec, "ES256", true),
            (&ec, "ES384", false),
            (&ec, "RS256", false),
            (&ec, "none", false),
        ] {
            let mut jwk = jwk.clone();
            jwk["alg"] = json!(alg);
            assert_eq!(PublicKey::from_jwk(&jwk).is_ok(), ok, "{alg}");
        }
        let mut numeric = rsa.clone();
        numeric["alg"] = json!(256);
        assert!(PublicKey::from_jwk(&numeric).is_err());
    }

    #[test]
    fn bad_jwks_are_refused() {
        let rsa = rsa_jwk(&rsa_pair());
        let ec = ec_jwk("P-256", p256_pair().public_key().as_ref());
        let p384 = ec_jwk("P-384", p384_pair().public_key().as_ref());
        let cases = [
            (&rsa, "kty", json!("oct")),
            (&rsa, "kty", json!("rsa")),
            (&rsa, "n", json!(null)),
            (&rsa, "n", json!("not base64!")),
            (
                &rsa,
                "n",
                json!(format!("{}==", rsa["n"].as_str().unwrap())),
            ),
            (&rsa, "e", json!("")),
            (&rsa, "e", json!(b64(&[1]))),
            (&rsa, "e", json!(b64(&[1, 0, 0]))),
            (&rsa, "e", json!(b64(&[2, 0, 0, 0, 1]))),
            (&ec, "crv", json!("P-521")),
            (&ec, "crv", json!("secp256k1")),
            (&ec, "crv", json!("P-384")),
            (&ec, "x", json!(b64(&[1; 31]))),
            (&ec, "y", json!(b64(&[1; 33]))),
            (&ec, "y", json!(null)),
            (&p384, "crv", json!("P-256")),
            (&p384, "x", json!(b64(&[1; 32]))),
        ];
        for (jwk, member, value) in cases {
            let mut bad = jwk.clone();
            bad[member] = value.clone();
            assert!(PublicKey::from_jwk(&bad).is_err(), "{member}: {value}");
        }
        for bad in [json!(null), json!("RSA"), json!([]), json!({})] {
            assert!(PublicKey::from_jwk(&bad).is_err());
        }
        // An OKP key (Ed25519) is a kind we do not verify.
        let okp = json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(&[1; 32]) });
        assert!(PublicKey::from_jwk(&okp).is_err());
    }

    #[test]
    fn rsa_size_limits() {
        let pair = rsa_pair();
        let jwk = rsa_jwk(&pair);
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let with_zeros = [&[0u8, 0][..], &n].concat();
        let mut padded = jwk.clone();
        padded["n"] = json!(b64(&with_zeros));
        assert_eq!(
            PublicKey::from_jwk(&padded).unwrap(),
            PublicKey::from_jwk(&jwk).unwrap()
        );

        // 2047 bits: the top bit cleared.
        let mut short = n.clone();
        short[0] &= 0x7f;
        let mut jwk_short = jwk.clone();
        jwk_short["n"] = json!(b64(&short));
        assert!(PublicKey::from_jwk(&jwk_short).is_err());

        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        let mut jwk_even = jwk.clone();
        jwk_even["n"] = json!(b64(&even));
        assert!(PublicKey::from_jwk(&jwk_even).is_err());

        let mut huge = vec![0xff; 1025];
        huge[0] = 0x01;
        let mut jwk_huge = jwk.clone();
        jwk_huge["n"] = json!(b64(&huge));
        assert!(PublicKey::from_jwk(&jwk_huge).is_err());
        let mut largest = vec![0xff; 1024];
        largest[0] = 0x80;
        jwk_huge["n"] = json!(b64(&largest));
        assert!(PublicKey::from_jwk(&jwk_huge).is_ok());
    }

    #[test]
    fn rsa_1024_jwk_is_refused() {
        // The modulus and exponent of the 1024-bit test certificate, read with the DER reader.
        let der = der::pem_decode(RSA1024_CERT, "CERTIFICATE").unwrap();
        let tbs = TbsCertificate::parse(&der).unwrap();
        let (_, pkcs1) = tbs.public_key().unwrap();
        let sequence = der::read_only(pkcs1, der::TAG_SEQUENCE).unwrap();
        let parts = der::children(sequence.content).unwrap();
        let n = der::unsigned_integer(&parts[0]).unwrap();
        let e = der::unsigned_integer(&parts[1]).unwrap();
        assert_eq!(n.len(), 128);
        let jwk = json!({ "kty": "RSA", "n": b64(n), "e": b64(e) });
        assert!(matches!(
            PublicKey::from_jwk(&jwk),
            Err(CryptoError::InvalidKey)
        ));
        assert_eq!(
            RsaPublicKey::from_components(n, e),
            Err("the RSA key is shorter than 2048 bits")
        );
    }

    #[test]
    fn jwk_set_selects_by_kid_and_skips_what_it_cannot_use() {
        let rsa = rsa_jwk(&rsa_pair());
        let ec = ec_jwk("P-256", p256_pair().public_key().as_ref());
        let p384 = ec_jwk("P-384", p384_pair().public_key().as_ref());
        let with = |jwk: &Value, members: Value| {
            let mut jwk = jwk.clone();
            for (name, value) in members.as_object().unwrap() {
                jwk[name] = value.clone();
            }
            jwk
        };
        let document = json!({ "keys": [
            with(&rsa, json!({ "kid": "rsa-1", "use": "sig", "alg": "RS256" })),
            with(&ec, json!({ "kid": "ec-1" })),
            with(&p384, json!({ "kid": "shared" })),
            with(&rsa, json!({ "kid": "shared" })),
            with(&rsa, json!({ "kid": "enc-1", "use": "enc" })),
            with(&rsa, json!({ "kid": 7 })),
            with(&ec, json!({ "kid": "bad-use", "use": 1 })),
            { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
            { "kty": "OKP", "crv": "Ed25519", "x": b64(&[1; 32]), "kid": "ed" },
            "not an object",
            p384.clone(),
        ]});
        let set = JwkSet::parse(&document).unwrap();
        assert_eq!(set.len(), 5);
        assert!(!set.is_empty());
        assert_eq!(set.keys_for(None).len(), 5);
        assert_eq!(
            set.keys_for(Some("rsa-1")),
            vec![&PublicKey::from_jwk(&rsa).unwrap()]
        );
        assert!(matches!(
            set.keys_for(Some("ec-1")).as_slice(),
            [PublicKey::EcP256(_)]
        ));
        assert!(matches!(
            set.keys_for(Some("shared")).as_slice(),
            [PublicKey::EcP384(_), PublicKey::Rsa(_)]
        ));
        for skipped in ["enc-1", "hmac", "ed", "bad-use", "7", "RSA-1", ""] {
            assert!(set.keys_for(Some(skipped)).is_empty(), "{skipped}");
        }
        assert_eq!(format!("{set:?}"), "JwkSet { len: 5, .. }");
    }

    #[test]
    fn garbage_jwk_sets_are_refused() {
        let rsa = rsa_jwk(&rsa_pair());
        let enc_only =
            json!({ "keys": [ { "kty": "RSA", "use": "enc", "n": rsa["n"], "e": rsa["e"] } ] });
        let too_many = json!({ "keys": vec![rsa.clone(); MAX_JWKS_KEYS + 1] });
        for bad in [
            json!(null),
            json!([rsa.clone()]),
            rsa.clone(),
            json!({ "keys": {} }),
            json!({ "keys": "x" }),
            json!({ "keys": [] }),
            json!({ "keys": [1, "two", null] }),
            json!({ "Keys": [rsa.clone()] }),
            enc_only,
            too_many,
        ] {
            assert!(
                matches!(JwkSet::parse(&bad), Err(CryptoError::InvalidKey)),
                "{bad}"
            );
        }
        let most = json!({ "keys": vec![rsa; MAX_JWKS_KEYS] });
        assert_eq!(JwkSet::parse(&most).unwrap().len(), MAX_JWKS_KEYS);
    }

    #[test]
    fn spki_algorithms_other_than_rsa_and_p256_p384_are_refused() {
        let p256 = p256_pair();
        let point = p256.public_key().as_ref();
        let ec_params = |curve: &[u8]| {
            let mut algorithm = der::encode(der::TAG_OID, OID_EC_PUBLIC_KEY);
            algorithm.extend(der::encode(der::TAG_OID, curve));
            algorithm
        };
        assert!(PublicKey::from_spki(&ec_params(OID_P256), point).is_ok());
        // P-521, 1.3.132.0.35.
        assert!(PublicKey::from_spki(&ec_params(&[0x2b, 0x81, 0x04, 0x00, 0x23]), point).is_err());
        assert!(PublicKey::from_spki(&ec_params(OID_P384), point).is_err());
        let compressed = [&[0x02][..], &point[1..33]].concat();
        assert!(PublicKey::from_spki(&ec_params(OID_P256), &compressed).is_err());
        let no_curve = der::encode(der::TAG_OID, OID_EC_PUBLIC_KEY);
        assert!(PublicKey::from_spki(&no_curve, point).is_err());

        let pkcs1 = rsa_pair().public_key().as_ref().to_vec();
        let rsa_alg = der::encode(der::TAG_OID, OID_RSA_ENCRYPTION);
        let rsa_null = [rsa_alg.clone(), der::encode(der::TAG_NULL, &[])].concat();
        assert!(PublicKey::from_spki(&rsa_null, &pkcs1).is_ok());
        assert!(PublicKey::from_spki(&rsa_alg, &pkcs1).is_ok());
        let rsa_odd_params = [rsa_alg.clone(), der::encode(der::TAG_OID, OID_P256)].concat();
        assert!(PublicKey::from_spki(&rsa_odd_params, &pkcs1).is_err());
        assert!(PublicKey::from_spki(&rsa_null, &pkcs1[1..]).is_err());
        // RSASSA-PSS keys, 1.2.840.113549.1.1.10, are not supported.
        let pss = der::encode(
            der::TAG_OID,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
        );
        assert!(PublicKey::from_spki(&pss, &pkcs1).is_err());
    }

    #[test]
    fn debug_shows_kind_and_size_only() {
        let rsa = PublicKey::from_jwk(&rsa_jwk(&rsa_pair())).unwrap();
        assert_eq!(format!("{rsa:?}"), "PublicKey(RSA, 2048 bits)");
        let PublicKey::Rsa(inner) = &rsa else {
            panic!("not RSA");
        };
        assert_eq!(format!("{inner:?}"), "RsaPublicKey { bits: 2048, .. }");
        let p256 =
            PublicKey::from_jwk(&ec_jwk("P-256", p256_pair().public_key().as_ref())).unwrap();
        assert_eq!(format!("{p256:?}"), "PublicKey(EC P-256)");
        let p384 =
            PublicKey::from_jwk(&ec_jwk("P-384", p384_pair().public_key().as_ref())).unwrap();
        assert_eq!(format!("{p384:?}"), "PublicKey(EC P-384)");
        let PublicKey::EcP384(inner) = &p384 else {
            panic!("not P-384");
        };
        assert_eq!(format!("{inner:?}"), "EcPublicKey { len: 97, .. }");
    }
}
