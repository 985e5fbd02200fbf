//! Fuzz target: compact JWS/JWT parsing and verification, as the token endpoint meets
//! attacker-supplied client assertions and federated tokens (`jws_header`, `jws_unverified`,
//! `verify_external_jws` with an EC P-256 and an RSA key) and as the data plane meets bearer
//! tokens (`verify_jwt` with the deployment's keys). Input: the token's bytes.
//!
//! Properties: never panics; whatever verifies also parses unverified, with the same claims;
//! what the unverified parse refuses never verifies; a token our key signs verifies to the
//! claims it was given.
#![no_main]

use arca_crypto::{
    jws_header, jws_unverified, verify_external_jws, verify_jwt, JwtError, PublicKey,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fn rsa_key() -> PublicKey {
    // A 2048-bit odd modulus: a well-formed RSA public key nobody holds the private key of.
    let mut modulus = vec![0xc3u8; 256];
    modulus[255] = 0x01;
    PublicKey::from_jwk(&json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&modulus), "e": "AQAB"}))
        .expect("the fixed RSA key parses")
}

fuzz_target!(|data: &[u8]| {
    let fixtures = arca_fuzz::fixtures();
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let header = jws_header(token);
    let unverified = jws_unverified(token);
    if header.is_err() {
        assert!(
            unverified.is_err(),
            "a token whose header is refused is refused"
        );
    }
    let ec = PublicKey::from_jwk(&fixtures.signing_key.public_jwk()).expect("our JWK parses");
    for key in [ec, rsa_key()] {
        match verify_external_jws(token, &key) {
            Ok(claims) => {
                let (_, unverified_claims) = unverified.clone().expect("verified tokens parse");
                assert_eq!(
                    claims, unverified_claims,
                    "verified and unverified claims agree"
                );
            }
            Err(JwtError::BadSignature | JwtError::UnsupportedAlgorithm) => {
                assert!(header.is_ok(), "only a parsed header gets to the signature");
            }
            Err(_) => {}
        }
    }
    if let Ok(claims) = verify_jwt(token, std::slice::from_ref(&fixtures.verifying_key)) {
        let (_, unverified_claims) = unverified.clone().expect("verified tokens parse");
        assert_eq!(
            claims, unverified_claims,
            "verified and unverified claims agree"
        );
    }
    // Round trip: our key signs any JSON object the input holds, and it verifies to the same.
    if let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice::<serde_json::Value>(data)
    {
        let value = serde_json::Value::Object(claims.clone());
        if let Ok(signed) = fixtures.signing_key.sign(&value) {
            let verified = verify_jwt(&signed, std::slice::from_ref(&fixtures.verifying_key));
            if signed.len() <= arca_crypto::MAX_TOKEN_LEN {
                assert_eq!(
                    verified,
                    Ok(claims),
                    "what we sign verifies to the same claims"
                );
            } else {
                assert_eq!(
                    verified,
                    Err(JwtError::Malformed),
                    "oversized tokens are refused"
                );
            }
        }
    }
});
