//! Verification of JWS tokens signed by other parties: client assertions signed with a
//! registered client certificate (MSAL, azure-identity `CertificateCredential`) and federated
//! assertions from external OIDC issuers (Kubernetes service-account tokens, GitHub Actions).
//!
//! The caller chooses the key (from [`jws_header`]'s `kid`, `x5t` or `x5t#S256` and its own
//! registry); nothing here takes a key from the token (`jwk`, `jku`, `x5c` and `x5u` headers are
//! ignored). The `alg` must be one this module lists and must fit the key's type, so a header
//! cannot pick `none`, an HMAC keyed with a public key, or an RSA/ECDSA confusion. Claims are not
//! checked: issuer, audience, expiry and not-before belong to the caller, which owns the clock.
//! Errors never quote the token.

use aws_lc_rs::signature::{
    VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
};
use serde_json::{Map, Value};

use crate::jose::jwt::CompactJws;

/// A decoded JOSE header or claims set.
pub type JsonObject = Map<String, Value>;
use crate::{JwtError, PublicKey};

/// The decoded, UNVERIFIED header of a compact JWS, for choosing a key (`kid`, `x5t`,
/// `x5t#S256`, `alg`). Refuses what [`crate::verify_jwt`] refuses as malformed before looking at
/// keys: tokens over [`crate::MAX_TOKEN_LEN`], anything but three segments, a header that is not
/// a base64url JSON object. Nothing in the header may be trusted until the token verifies.
pub fn jws_header(token: &str) -> Result<Map<String, Value>, JwtError> {
    Ok(CompactJws::parse(token)?.into_header())
}

/// The decoded, UNVERIFIED header and claims of a compact JWS, for a caller that must read the
/// claims (`iss`) to know which party's keys to verify with. Same refusals as [`jws_header`],
/// plus claims that are not a base64url JSON object. Nothing here may be trusted until the token
/// verifies.
pub fn jws_unverified(token: &str) -> Result<(JsonObject, JsonObject), JwtError> {
    let jws = CompactJws::parse(token)?;
    let claims = jws.claims()?;
    Ok((jws.into_header(), claims))
}

/// Verifies a compact JWS signed with `key` and returns its claims.
///
/// Accepted algorithms: RS256, RS384, RS512, PS256, PS384, PS512 with an RSA key; ES256 with a
/// P-256 key; ES384 with a P-384 key. Any other `alg`, including `none`, the HMAC family and an
/// algorithm that does not fit the key's type, is [`JwtError::UnsupportedAlgorithm`]; a missing
/// or non-string `alg`, a `crit` header, or a token over [`crate::MAX_TOKEN_LEN`] is
/// [`JwtError::Malformed`]; a signature that does not verify is [`JwtError::BadSignature`].
/// Does not check claims (the caller does, with its clock).
pub fn verify_external_jws(token: &str, key: &PublicKey) -> Result<Map<String, Value>, JwtError> {
    let jws = CompactJws::parse(token)?;
    let algorithm = algorithm_for(jws.alg()?, key)?;
    jws.refuse_crit()?;
    let signature = jws.signature()?;
    if !jws.verifies(algorithm, key.verification_bytes(), &signature) {
        return Err(JwtError::BadSignature);
    }
    jws.claims()
}

/// The aws-lc-rs algorithm for a JWS `alg` with `key`, if this module accepts that pairing.
pub(crate) fn algorithm_for(
    alg: &str,
    key: &PublicKey,
) -> Result<&'static dyn VerificationAlgorithm, JwtError> {
    Ok(match (key, alg) {
        (PublicKey::Rsa(_), "RS256") => &RSA_PKCS1_2048_8192_SHA256,
        (PublicKey::Rsa(_), "RS384") => &RSA_PKCS1_2048_8192_SHA384,
        (PublicKey::Rsa(_), "RS512") => &RSA_PKCS1_2048_8192_SHA512,
        (PublicKey::Rsa(_), "PS256") => &RSA_PSS_2048_8192_SHA256,
        (PublicKey::Rsa(_), "PS384") => &RSA_PSS_2048_8192_SHA384,
        (PublicKey::Rsa(_), "PS512") => &RSA_PSS_2048_8192_SHA512,
        (PublicKey::EcP256(_), "ES256") => &ECDSA_P256_SHA256_FIXED,
        (PublicKey::EcP384(_), "ES384") => &ECDSA_P384_SHA384_FIXED,
        _ => return Err(JwtError::UnsupportedAlgorithm),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{
        b64, ec_jwk, fresh_p256_pair, malformed_variants, p256_pair, p384_pair, rsa_jwk, rsa_pair,
        sign_ec, sign_rsa, sign_with, P256_CERT, RSA2048_CERT,
    };
    use crate::{ClientCertificate, JwkSet, MAX_TOKEN_LEN};
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{
        KeyPair as _, RsaEncoding, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512,
        RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
    };
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::json;

    const RSA_ALGS: [(&str, &dyn RsaEncoding); 6] = [
        ("RS256", &RSA_PKCS1_SHA256),
        ("RS384", &RSA_PKCS1_SHA384),
        ("RS512", &RSA_PKCS1_SHA512),
        ("PS256", &RSA_PSS_SHA256),
        ("PS384", &RSA_PSS_SHA384),
        ("PS512", &RSA_PSS_SHA512),
    ];

    /// Client assertion claims as MSAL builds them.
    fn claims() -> Value {
        json!({
            "aud": "https://login.example/tenant/oauth2/v2.0/token",
            "iss": "11111111-2222-3333-4444-555555555555",
            "sub": "11111111-2222-3333-4444-555555555555",
            "jti": "6f1c1d3e-2a0e-4f5b-9a53-0f2b1c3d4e5f",
            "nbf": 1_795_315_700,
            "exp": 1_795_316_300,
        })
    }

    fn rsa_key() -> PublicKey {
        PublicKey::from_jwk(&rsa_jwk(&rsa_pair())).unwrap()
    }

    fn p256_key() -> PublicKey {
        PublicKey::from_jwk(&ec_jwk("P-256", p256_pair().public_key().as_ref())).unwrap()
    }

    fn p384_key() -> PublicKey {
        PublicKey::from_jwk(&ec_jwk("P-384", p384_pair().public_key().as_ref())).unwrap()
    }

    fn rs256(header: &Value, claims: &Value) -> String {
        sign_rsa(&rsa_pair(), &RSA_PKCS1_SHA256, header, claims)
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn every_rsa_algorithm_verifies() {
        let pair = rsa_pair();
        let key = rsa_key();
        for (alg, padding) in RSA_ALGS {
            let token = sign_rsa(
                &pair,
                padding,
                &json!({ "alg": alg, "typ": "JWT" }),
                &claims(),
            );
            let verified = verify_external_jws(&token, &key).unwrap();
            assert_eq!(Value::Object(verified), claims(), "{alg}");
        }
    }

    #[test]
    fn es256_and_es384_verify() {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": "k8s" });
        let token = sign_ec(&p256_pair(), &header, &claims());
        let verified = verify_external_jws(&token, &p256_key()).unwrap();
        assert_eq!(Value::Object(verified), claims());

        let header = json!({ "alg": "ES384", "typ": "JWT" });
        let token = sign_ec(&p384_pair(), &header, &claims());
        let verified = verify_external_jws(&token, &p384_key()).unwrap();
        assert_eq!(Value::Object(verified), claims());
    }

    #[test]
    fn msal_rs256_with_x5t_verifies_through_the_certificate() {
        // MSAL Python (azure-identity CertificateCredential): RS256, `x5t` = base64url SHA-1.
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        let header = json!({ "alg": "RS256", "typ": "JWT", "x5t": b64(&cert.sha1_thumbprint) });
        let token = rs256(&header, &claims());

        let unverified = jws_header(&token).unwrap();
        assert_eq!(
            unverified.get("x5t"),
            Some(&json!(b64(&cert.sha1_thumbprint)))
        );
        assert_eq!(unverified.get("alg"), Some(&json!("RS256")));
        let verified = verify_external_jws(&token, &cert.key).unwrap();
        assert_eq!(Value::Object(verified), claims());
    }

    #[test]
    fn msal_ps256_with_x5t_s256_verifies_through_the_certificate() {
        // Newer MSAL: PS256, `x5t#S256` = base64url SHA-256.
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        let header = json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t#S256": b64(&cert.sha256_thumbprint),
        });
        let token = sign_rsa(&rsa_pair(), &RSA_PSS_SHA256, &header, &claims());

        let unverified = jws_header(&token).unwrap();
        assert_eq!(
            unverified.get("x5t#S256"),
            Some(&json!(b64(&cert.sha256_thumbprint)))
        );
        let verified = verify_external_jws(&token, &cert.key).unwrap();
        assert_eq!(Value::Object(verified), claims());
    }

    #[test]
    fn ec_certificate_key_verifies_es256() {
        let cert = ClientCertificate::from_pem(P256_CERT).unwrap();
        let header = json!({ "alg": "ES256", "x5t#S256": b64(&cert.sha256_thumbprint) });
        let token = sign_ec(&p256_pair(), &header, &claims());
        assert!(verify_external_jws(&token, &cert.key).is_ok());
    }

    #[test]
    fn federated_token_verifies_through_a_jwk_set_by_kid() {
        let mut other = ec_jwk("P-256", p256_pair().public_key().as_ref());
        other["kid"] = json!("other");
        let mut issuer_key = rsa_jwk(&rsa_pair());
        issuer_key["kid"] = json!("gha-1");
        issuer_key["use"] = json!("sig");
        let set = JwkSet::parse(&json!({ "keys": [other, issuer_key] })).unwrap();

        let token = rs256(
            &json!({ "alg": "RS256", "typ": "JWT", "kid": "gha-1" }),
            &claims(),
        );
        let header = jws_header(&token).unwrap();
        let kid = header.get("kid").and_then(Value::as_str);
        let keys = set.keys_for(kid);
        assert_eq!(keys.len(), 1);
        let verified = verify_external_jws(&token, keys[0]).unwrap();
        assert_eq!(Value::Object(verified), claims());

        let wrong = set.keys_for(Some("other"));
        assert_eq!(
            verify_external_jws(&token, wrong[0]),
            Err(JwtError::UnsupportedAlgorithm)
        );
        // Without a kid the caller tries every key; exactly one verifies.
        let verifying = set
            .keys_for(None)
            .into_iter()
            .filter(|key| verify_external_jws(&token, key).is_ok())
            .count();
        assert_eq!(verifying, 1);
    }

    #[test]
    fn wrong_key_is_a_bad_signature() {
        let token = sign_ec(&p256_pair(), &json!({ "alg": "ES256" }), &claims());
        let other_p256 =
            PublicKey::from_jwk(&ec_jwk("P-256", fresh_p256_pair().public_key().as_ref())).unwrap();
        assert_eq!(
            verify_external_jws(&token, &other_p256),
            Err(JwtError::BadSignature)
        );

        // An RSA key of the right size that is not the signer's.
        let mut jwk = rsa_jwk(&rsa_pair());
        let mut n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        n[100] ^= 0x10;
        jwk["n"] = json!(b64(&n));
        let other_rsa = PublicKey::from_jwk(&jwk).unwrap();
        for (alg, padding) in RSA_ALGS {
            let token = sign_rsa(&rsa_pair(), padding, &json!({ "alg": alg }), &claims());
            assert_eq!(
                verify_external_jws(&token, &other_rsa),
                Err(JwtError::BadSignature),
                "{alg}"
            );
        }
    }

    #[test]
    fn alg_must_fit_the_key_type() {
        let rsa = rsa_key();
        let p256 = p256_key();
        let p384 = p384_key();
        let es256 = sign_ec(&p256_pair(), &json!({ "alg": "ES256" }), &claims());
        let es384 = sign_ec(&p384_pair(), &json!({ "alg": "ES384" }), &claims());
        let rs = rs256(&json!({ "alg": "RS256" }), &claims());
        for (token, key) in [
            (&es256, &rsa),
            (&es256, &p384),
            (&es384, &rsa),
            (&es384, &p256),
            (&rs, &p256),
            (&rs, &p384),
        ] {
            assert_eq!(
                verify_external_jws(token, key),
                Err(JwtError::UnsupportedAlgorithm),
                "{key:?}"
            );
        }
        // A P-256 signature relabelled ES384 (and the reverse) is refused before any check.
        let relabelled = sign_ec(&p256_pair(), &json!({ "alg": "ES384" }), &claims());
        assert_eq!(
            verify_external_jws(&relabelled, &p256),
            Err(JwtError::UnsupportedAlgorithm)
        );
        // PKCS#1 v1.5 and PSS are not interchangeable.
        let pss_labelled_rs = sign_rsa(
            &rsa_pair(),
            &RSA_PSS_SHA256,
            &json!({ "alg": "RS256" }),
            &claims(),
        );
        assert_eq!(
            verify_external_jws(&pss_labelled_rs, &rsa),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn alg_none_and_unknown_algorithms_are_refused() {
        let key = rsa_key();
        let header = b64(&serde_json::to_vec(&json!({ "alg": "none", "typ": "JWT" })).unwrap());
        let body = b64(&serde_json::to_vec(&claims()).unwrap());
        let unsecured = format!("{header}.{body}.");
        assert_eq!(
            verify_external_jws(&unsecured, &key),
            Err(JwtError::UnsupportedAlgorithm)
        );
        for alg in [
            "None", "NONE", "rs256", "RS1", "ES512", "EdDSA", "RSA-OAEP", "HS256", "",
        ] {
            let token = rs256(&json!({ "alg": alg }), &claims());
            assert_eq!(
                verify_external_jws(&token, &key),
                Err(JwtError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
        for header in [
            json!({}),
            json!({ "alg": null }),
            json!({ "alg": ["RS256"] }),
        ] {
            let token = rs256(&header, &claims());
            assert_eq!(verify_external_jws(&token, &key), Err(JwtError::Malformed));
        }
    }

    /// A token with an HMAC `alg` keyed with `mac_key`, as an attacker holding only public
    /// key bytes would make it.
    fn hmac_token(alg: &str, mac_key: &[u8]) -> String {
        let algorithm = match alg {
            "HS256" => hmac::HMAC_SHA256,
            "HS384" => hmac::HMAC_SHA384,
            _ => hmac::HMAC_SHA512,
        };
        sign_with(&json!({ "alg": alg, "typ": "JWT" }), &claims(), |input| {
            hmac::sign(&hmac::Key::new(algorithm, mac_key), input)
                .as_ref()
                .to_vec()
        })
    }

    #[test]
    fn hs256_keyed_with_the_public_key_is_refused() {
        // The classic confusion: an HMAC keyed with the verifier's public key bytes (PKCS#1
        // DER, the certificate DER, the certificate PEM, an EC point).
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        let ec = p256_key();
        for (key, mac_key) in [
            (&cert.key, cert.key.verification_bytes()),
            (&cert.key, cert.der.as_slice()),
            (&cert.key, RSA2048_CERT.as_bytes()),
            (&ec, ec.verification_bytes()),
        ] {
            for alg in ["HS256", "HS384", "HS512"] {
                assert_eq!(
                    verify_external_jws(&hmac_token(alg, mac_key), key),
                    Err(JwtError::UnsupportedAlgorithm),
                    "{alg}"
                );
            }
        }
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let key = rsa_key();
        let token = rs256(&json!({ "alg": "RS256", "kid": "a" }), &claims());
        let parts = segments(&token);

        let mut forged = claims();
        forged["sub"] = json!("admin");
        let forged = b64(&serde_json::to_vec(&forged).unwrap());
        let swapped_claims = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            verify_external_jws(&swapped_claims, &key),
            Err(JwtError::BadSignature)
        );
        let other_header = b64(br#"{"alg":"RS256","kid":"b"}"#);
        let swapped_header = format!("{other_header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            verify_external_jws(&swapped_header, &key),
            Err(JwtError::BadSignature)
        );

        let signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        for i in [0, 100, signature.len() - 1] {
            let mut bad = signature.clone();
            bad[i] ^= 0x01;
            let token = format!("{}.{}.{}", parts[0], parts[1], b64(&bad));
            assert_eq!(
                verify_external_jws(&token, &key),
                Err(JwtError::BadSignature)
            );
        }
        for bad in [&signature[..signature.len() - 1], &[][..]] {
            let token = format!("{}.{}.{}", parts[0], parts[1], b64(bad));
            assert_eq!(
                verify_external_jws(&token, &key),
                Err(JwtError::BadSignature)
            );
        }

        let ec_token = sign_ec(&p256_pair(), &json!({ "alg": "ES256" }), &claims());
        let ec_parts = segments(&ec_token);
        let ec_forged = format!("{}.{forged}.{}", ec_parts[0], ec_parts[2]);
        assert_eq!(
            verify_external_jws(&ec_forged, &p256_key()),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_and_crit_are_refused() {
        let key = rsa_key();
        let token = rs256(&json!({ "alg": "RS256" }), &claims());
        for bad in malformed_variants(&token) {
            assert_eq!(
                verify_external_jws(&bad, &key),
                Err(JwtError::Malformed),
                "{bad}"
            );
        }
        let crit = rs256(
            &json!({ "alg": "RS256", "crit": ["b64"], "b64": false }),
            &claims(),
        );
        assert_eq!(verify_external_jws(&crit, &key), Err(JwtError::Malformed));

        // A signed claims set that is not a JSON object.
        let array = sign_with(&json!({ "alg": "ES256" }), &json!([1, 2]), |input| {
            crate::test_keys::ec_signature(&p256_pair(), input)
        });
        assert_eq!(
            verify_external_jws(&array, &p256_key()),
            Err(JwtError::Malformed)
        );
    }

    #[test]
    fn oversized_tokens_are_refused_by_both_functions() {
        let key = rsa_key();
        let padding = "x".repeat(MAX_TOKEN_LEN);
        let big = rs256(&json!({ "alg": "RS256" }), &json!({ "pad": padding }));
        assert!(big.len() > MAX_TOKEN_LEN);
        assert_eq!(verify_external_jws(&big, &key), Err(JwtError::Malformed));
        assert_eq!(jws_header(&big), Err(JwtError::Malformed));

        // Just under the limit still verifies.
        let small = "x".repeat(MAX_TOKEN_LEN / 2);
        let fits = rs256(&json!({ "alg": "RS256" }), &json!({ "pad": small }));
        assert!(fits.len() <= MAX_TOKEN_LEN);
        assert!(verify_external_jws(&fits, &key).is_ok());
    }

    #[test]
    fn jws_header_decodes_without_verifying() {
        let token = rs256(
            &json!({ "alg": "RS256", "kid": "k", "x5t": "abc" }),
            &claims(),
        );
        let parts = segments(&token);
        let unsigned = format!("{}.{}.", parts[0], parts[1]);
        let header = jws_header(&unsigned).unwrap();
        assert_eq!(header.get("kid"), Some(&json!("k")));
        assert_eq!(header.get("x5t"), Some(&json!("abc")));
        assert_eq!(header.len(), 3);
        for bad in ["", "a.b", "a.b.c.d", "!!.b.c", "W10.b.c"] {
            assert_eq!(jws_header(bad), Err(JwtError::Malformed), "{bad}");
        }
    }

    #[test]
    fn unverified_parts_are_header_and_claims() {
        let token = rs256(&json!({ "alg": "RS256", "kid": "k" }), &claims());
        let (header, body) = jws_unverified(&token).unwrap();
        assert_eq!(header.get("kid"), Some(&json!("k")));
        assert_eq!(Value::Object(body), claims());
        let parts = segments(&token);
        let array_claims = format!("{}.W10.{}", parts[0], parts[2]);
        assert_eq!(jws_unverified(&array_claims), Err(JwtError::Malformed));
    }

    #[test]
    fn errors_do_not_quote_the_token() {
        let key = rsa_key();
        let token = rs256(&json!({ "alg": "RS256", "kid": "secret-kid" }), &claims());
        let parts = segments(&token);
        let tampered = format!("{}.{}.{}", parts[0], parts[0], parts[2]);
        let err = verify_external_jws(&tampered, &key).unwrap_err();
        let shown = format!("{err} {err:?}");
        for part in &parts {
            assert!(!shown.contains(part.as_str()), "{shown}");
        }
        assert!(!shown.contains("secret-kid"));
    }
}
