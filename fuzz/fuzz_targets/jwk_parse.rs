//! Fuzz target: JWK and JWK set parsing (`PublicKey::from_jwk`, `JwkSet::parse`,
//! `VerifyingKey::from_jwk`): a federated issuer's JWKS document, fetched or pasted by an
//! administrator, is another party's JSON. Input: JSON bytes.
//!
//! Properties: never panics; a verifying key that parses writes a JWK that parses back to the
//! same key; a key set answers `keys_for` with keys it holds.
#![no_main]

use arca_crypto::{JwkSet, PublicKey, VerifyingKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = PublicKey::from_jwk(&document);
    if let Ok(key) = VerifyingKey::from_jwk(&document) {
        let again = VerifyingKey::from_jwk(&key.to_jwk()).expect("our JWK parses");
        assert_eq!(
            again.public_point(),
            key.public_point(),
            "the point survives"
        );
        assert_eq!(again.kid(), key.kid(), "the kid survives");
    }
    if let Ok(set) = JwkSet::parse(&document) {
        assert_eq!(set.is_empty(), set.len() == 0);
        let all = set.keys_for(None).len();
        assert!(all <= set.len(), "no more keys than the set holds");
        if let Some(kid) = document
            .pointer("/keys/0/kid")
            .and_then(serde_json::Value::as_str)
        {
            assert!(set.keys_for(Some(kid)).len() <= set.len());
        }
    }
});
