//! Test support only (compiled under `cfg(test)`): the throwaway keys and certificates in
//! `tests/fixtures/` (see its README for how they were made and what OpenSSL said about them),
//! and helpers that sign tokens with them. Never use these keys for anything else.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _, RsaEncoding, RsaKeyPair,
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::jose::jwt::compact_jws;

/// Throwaway RSA 2048 private key (PKCS#8 PEM).
pub(crate) const RSA2048_KEY: &str = include_str!("../tests/fixtures/rsa2048.key.pem");
/// Throwaway self-signed certificate for [`RSA2048_KEY`], subject
/// `C=GB, O=Example, Inc., CN=arca-test-app`, UTCTime validity.
pub(crate) const RSA2048_CERT: &str = include_str!("../tests/fixtures/rsa2048.cert.pem");
/// Throwaway EC P-256 private key (PKCS#8 PEM).
pub(crate) const P256_KEY: &str = include_str!("../tests/fixtures/p256.key.pem");
/// Throwaway self-signed certificate for [`P256_KEY`], notAfter a GeneralizedTime (2054).
pub(crate) const P256_CERT: &str = include_str!("../tests/fixtures/p256.cert.pem");
/// Throwaway EC P-384 private key (PKCS#8 PEM).
pub(crate) const P384_KEY: &str = include_str!("../tests/fixtures/p384.key.pem");
/// Throwaway self-signed certificate with an RSA 1024 key (its private key was deleted).
pub(crate) const RSA1024_CERT: &str = include_str!("../tests/fixtures/rsa1024.cert.pem");

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pkcs8(pem: &str) -> Vec<u8> {
    crate::pki::der::pem_decode(pem, "PRIVATE KEY").unwrap()
}

pub(crate) fn rsa_pair() -> RsaKeyPair {
    RsaKeyPair::from_pkcs8(&pkcs8(RSA2048_KEY)).unwrap()
}

fn ec_pair(algorithm: &'static EcdsaSigningAlgorithm, pem: &str) -> EcdsaKeyPair {
    EcdsaKeyPair::from_pkcs8(algorithm, &pkcs8(pem)).unwrap()
}

pub(crate) fn p256_pair() -> EcdsaKeyPair {
    ec_pair(&ECDSA_P256_SHA256_FIXED_SIGNING, P256_KEY)
}

pub(crate) fn p384_pair() -> EcdsaKeyPair {
    ec_pair(&ECDSA_P384_SHA384_FIXED_SIGNING, P384_KEY)
}

/// A P-256 key pair generated now, unrelated to the fixtures.
pub(crate) fn fresh_p256_pair() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, document.as_ref()).unwrap()
}

/// The public JWK of an RSA key pair, built from aws-lc-rs's view of the key (not from our parser).
pub(crate) fn rsa_jwk(pair: &RsaKeyPair) -> Value {
    let (n, e) = crate::pki::der::rsa_public_key(pair.public_key().as_ref()).unwrap();
    json!({ "kty": "RSA", "n": b64(n), "e": b64(e) })
}

/// The public JWK of an uncompressed EC point.
pub(crate) fn ec_jwk(crv: &str, point: &[u8]) -> Value {
    let coordinates = &point[1..];
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    json!({ "kty": "EC", "crv": crv, "x": b64(x), "y": b64(y) })
}

/// A compact JWS of `header` and `claims` with the signature `sign` makes over the input.
pub(crate) fn sign_with(
    header: &Value,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> String {
    let header = serde_json::to_vec(header).unwrap();
    let claims = serde_json::to_vec(claims).unwrap();
    compact_jws(&header, &claims, |input| Ok(sign(input))).unwrap()
}

pub(crate) fn sign_rsa(
    pair: &RsaKeyPair,
    padding: &'static dyn RsaEncoding,
    header: &Value,
    claims: &Value,
) -> String {
    sign_with(header, claims, |input| {
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(padding, &SystemRandom::new(), input, &mut signature)
            .unwrap();
        signature
    })
}

/// A JWS (fixed-width) ECDSA signature over `input`.
pub(crate) fn ec_signature(pair: &EcdsaKeyPair, input: &[u8]) -> Vec<u8> {
    pair.sign(&SystemRandom::new(), input)
        .unwrap()
        .as_ref()
        .to_vec()
}

/// Variants of a valid compact JWS that every verifier must refuse as malformed.
pub(crate) fn malformed_variants(token: &str) -> Vec<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        panic!("not a compact JWS");
    };
    vec![
        String::new(),
        "a.b".to_owned(),
        format!("{token}.extra"),
        format!("{header}.{claims}"),
        format!("{header}==.{claims}.{signature}"),
        format!("{header}.{claims}.{signature}!"),
        format!(".{claims}.{signature}"),
    ]
}

pub(crate) fn sign_ec(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
    sign_with(header, claims, |input| ec_signature(pair, input))
}
