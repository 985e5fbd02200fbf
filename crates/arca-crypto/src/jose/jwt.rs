//! ES256 JSON Web Tokens: the token issuer's signing key and the verification every request runs.
//!
//! Only ES256 (ECDSA P-256 with SHA-256, JWS fixed-width `r || s` signatures) exists here, so no
//! header can talk the verifier into `none`, an HMAC keyed with a public key, or RSA. The `kid`
//! of our own keys is their RFC 7638 JWK thumbprint. Verification checks form, algorithm, key and
//! signature only; issuer, audience, expiry and not-before belong to the caller, which owns the
//! clock. Error values never quote the token.
//!
//! [`CompactJws`] (splitting, size limit, header decoding, `crit` refusal, signature check) is
//! shared with the verification of other parties' tokens in `jws.rs`.

use std::fmt;

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::{CryptoError, JwtError, PublicKey, SecretBytes};

/// Longest token [`verify_jwt`], [`crate::verify_external_jws`] and [`crate::jws_header`] will
/// look at.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Length of an uncompressed P-256 point: `0x04 || x || y`.
const POINT_LEN: usize = 65;
/// Length of one coordinate.
const COORD_LEN: usize = 32;
/// Length of a JWS ES256 signature.
const SIGNATURE_LEN: usize = 64;

/// The token issuer's ES256 private key.
pub struct TokenSigningKey {
    pair: EcdsaKeyPair,
    verifying: VerifyingKey,
}

impl TokenSigningKey {
    /// A fresh key pair, and its PKCS#8 encoding for the caller to store (sealed).
    pub fn generate() -> Result<(TokenSigningKey, SecretBytes), CryptoError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| CryptoError::Random)?;
        let pkcs8 = SecretBytes::from_slice(document.as_ref());
        let key = Self::from_pkcs8(pkcs8.expose())?;
        Ok((key, pkcs8))
    }

    /// Loads a P-256 key pair from PKCS#8 (as produced by [`TokenSigningKey::generate`]).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<TokenSigningKey, CryptoError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| CryptoError::InvalidKey)?;
        let verifying = VerifyingKey::from_point(pair.public_key().as_ref())?;
        Ok(TokenSigningKey { pair, verifying })
    }

    /// The key id: the RFC 7638 JWK thumbprint of the public key, base64url.
    pub fn kid(&self) -> &str {
        self.verifying.kid()
    }

    /// The public key as a JWK for the JWKS endpoint.
    pub fn public_jwk(&self) -> Value {
        self.verifying.to_jwk()
    }

    /// The public half, for [`verify_jwt`].
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying.clone()
    }

    /// Signs `claims` (a JSON object) as a compact JWS with header
    /// `{"alg":"ES256","typ":"JWT","kid":...}`.
    pub fn sign(&self, claims: &Value) -> Result<String, CryptoError> {
        if !claims.is_object() {
            return Err(CryptoError::Jwt(JwtError::Malformed));
        }
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid() });
        let header = serde_json::to_vec(&header).map_err(|_| CryptoError::Sign)?;
        let claims = serde_json::to_vec(claims).map_err(|_| CryptoError::Sign)?;
        self.sign_parts(&header, &claims)
    }

    /// Signs already-serialized header and claims bytes.
    fn sign_parts(&self, header: &[u8], claims: &[u8]) -> Result<String, CryptoError> {
        compact_jws(header, claims, |input| {
            self.pair
                .sign(&SystemRandom::new(), input)
                .map_err(|_| CryptoError::Sign)
        })
    }
}

/// The deployment's key for signing key-release answers (ES256): a key of its own, never one of
/// the token issuer's, so a release JWS cannot pass for an access token (the issuer's JWKS does
/// not hold this key) and an access token cannot pass for a release answer.
pub struct ReleaseSigningKey(TokenSigningKey);

impl ReleaseSigningKey {
    /// A fresh key pair, and its PKCS#8 encoding for the caller to store (sealed).
    pub fn generate() -> Result<(ReleaseSigningKey, SecretBytes), CryptoError> {
        let (key, pkcs8) = TokenSigningKey::generate()?;
        Ok((ReleaseSigningKey(key), pkcs8))
    }

    /// Loads the key from PKCS#8 (as produced by [`ReleaseSigningKey::generate`]).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<ReleaseSigningKey, CryptoError> {
        TokenSigningKey::from_pkcs8(pkcs8).map(ReleaseSigningKey)
    }

    /// The key id: the RFC 7638 JWK thumbprint of the public key, base64url.
    pub fn kid(&self) -> &str {
        self.0.kid()
    }

    /// The public key as a JWK, for the published release-key set.
    pub fn public_jwk(&self) -> Value {
        self.0.public_jwk()
    }

    /// The public half, to verify a release answer.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// Signs `payload` (a JSON object) as a compact JWS with header
    /// `{"alg":"ES256","kid":...,"typ":"JWT"}`.
    pub fn sign(&self, payload: &Value) -> Result<String, CryptoError> {
        self.0.sign(payload)
    }
}

impl fmt::Debug for ReleaseSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleaseSigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// A compact JWS of serialized `header` and `claims`, signed by `sign` over `header.claims`.
pub(crate) fn compact_jws<S: AsRef<[u8]>>(
    header: &[u8],
    claims: &[u8],
    sign: impl FnOnce(&[u8]) -> Result<S, CryptoError>,
) -> Result<String, CryptoError> {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    let signature = sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
    Ok(token)
}

impl fmt::Debug for TokenSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// A trusted ES256 public key and its key id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    kid: String,
    point: Vec<u8>,
}

impl VerifyingKey {
    /// A key from an uncompressed P-256 point (`0x04 || x || y`), its kid the JWK thumbprint.
    pub fn from_point(point: &[u8]) -> Result<VerifyingKey, CryptoError> {
        if point.len() != POINT_LEN || point.first() != Some(&0x04) {
            return Err(CryptoError::InvalidKey);
        }
        let mut key = VerifyingKey {
            kid: String::new(),
            point: point.to_vec(),
        };
        key.kid = key.thumbprint();
        Ok(key)
    }

    /// A key from a public JWK (`kty` EC, `crv` P-256, `x`, `y`; `alg`, if present, ES256).
    /// The JWK's `kid` is kept if present (other issuers choose their own); otherwise the
    /// thumbprint is used.
    pub fn from_jwk(jwk: &Value) -> Result<VerifyingKey, CryptoError> {
        // `PublicKey::from_jwk` refuses an `alg` the key cannot verify; for P-256 that is
        // anything but ES256.
        let PublicKey::EcP256(public) = PublicKey::from_jwk(jwk)? else {
            return Err(CryptoError::InvalidKey);
        };
        let mut key = Self::from_point(public.point())?;
        match jwk.get("kid") {
            None => {}
            Some(Value::String(kid)) if !kid.is_empty() => key.kid.clone_from(kid),
            Some(_) => return Err(CryptoError::InvalidKey),
        }
        Ok(key)
    }

    /// The key id tokens name in their header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The uncompressed public point.
    pub fn public_point(&self) -> &[u8] {
        &self.point
    }

    /// The public key as a JWK: `{kty, crv, x, y, kid, use: "sig", alg: "ES256"}`.
    pub fn to_jwk(&self) -> Value {
        let (x, y) = self.coordinates();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": x,
            "y": y,
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
        })
    }

    /// Base64url x and y coordinates.
    fn coordinates(&self) -> (String, String) {
        let coords = self.point.get(1..).unwrap_or_default();
        let (x, y) = coords.split_at(coords.len().min(COORD_LEN));
        (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y))
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
    }
}

/// Verifies a compact ES256 JWS against trusted keys and returns its claims object.
///
/// Refuses tokens over [`MAX_TOKEN_LEN`], anything but three base64url segments, any `alg` but
/// ES256, a `crit` header, a missing or unknown `kid`, and a bad signature. Does not check `iss`,
/// `aud`, `exp` or `nbf`: the caller does, with its own clock.
pub fn verify_jwt(token: &str, keys: &[VerifyingKey]) -> Result<Map<String, Value>, JwtError> {
    let jws = CompactJws::parse(token)?;
    if jws.alg()? != "ES256" {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    jws.refuse_crit()?;
    let Some(Value::String(kid)) = jws.header().get("kid") else {
        return Err(JwtError::UnknownKey);
    };
    let mut candidates = keys.iter().filter(|key| key.kid == *kid).peekable();
    if candidates.peek().is_none() {
        return Err(JwtError::UnknownKey);
    }
    let signature = jws.signature()?;
    if signature.len() != SIGNATURE_LEN {
        return Err(JwtError::BadSignature);
    }
    if !candidates.any(|key| jws.verifies(&ECDSA_P256_SHA256_FIXED, &key.point, &signature)) {
        return Err(JwtError::BadSignature);
    }
    jws.claims()
}

/// A compact JWS split into its three segments, with its header decoded and nothing verified.
pub(crate) struct CompactJws<'a> {
    header: Map<String, Value>,
    /// `header.claims`, the bytes the signature covers.
    signing_input: &'a [u8],
    claims: &'a str,
    signature: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Splits `token`; refuses tokens over [`MAX_TOKEN_LEN`], anything but three segments and a
    /// header that is not a base64url JSON object.
    pub(crate) fn parse(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(JwtError::Malformed);
        };
        let signing_input = token
            .as_bytes()
            .get(..header.len() + 1 + claims.len())
            .ok_or(JwtError::Malformed)?;
        Ok(CompactJws {
            header: decode_object(header)?,
            signing_input,
            claims,
            signature,
        })
    }

    /// The decoded header; unverified.
    pub(crate) fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The decoded header, consuming the token; unverified.
    pub(crate) fn into_header(self) -> Map<String, Value> {
        self.header
    }

    /// The `alg` header member; `Malformed` when it is missing or not a string.
    pub(crate) fn alg(&self) -> Result<&str, JwtError> {
        match self.header.get("alg") {
            Some(Value::String(alg)) => Ok(alg),
            _ => Err(JwtError::Malformed),
        }
    }

    /// Refuses a `crit` header: RFC 7515 section 4.1.11 says extensions we do not understand
    /// must not be ignored, and we understand none.
    pub(crate) fn refuse_crit(&self) -> Result<(), JwtError> {
        if self.header.contains_key("crit") {
            return Err(JwtError::Malformed);
        }
        Ok(())
    }

    /// The decoded signature bytes.
    pub(crate) fn signature(&self) -> Result<Vec<u8>, JwtError> {
        URL_SAFE_NO_PAD
            .decode(self.signature)
            .map_err(|_| JwtError::Malformed)
    }

    /// Whether `signature` over the signing input verifies with `public_key` under `algorithm`.
    pub(crate) fn verifies(
        &self,
        algorithm: &'static dyn VerificationAlgorithm,
        public_key: &[u8],
        signature: &[u8],
    ) -> bool {
        UnparsedPublicKey::new(algorithm, public_key)
            .verify(self.signing_input, signature)
            .is_ok()
    }

    /// The decoded claims object; call only after the signature verified.
    pub(crate) fn claims(&self) -> Result<Map<String, Value>, JwtError> {
        decode_object(self.claims)
    }
}

/// Decodes one base64url segment holding a JSON object.
fn decode_object(segment: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::hmac;

    fn claims() -> Value {
        json!({ "iss": "https://localhost/tenant", "aud": "https://vault.localhost", "exp": 2_000_000_000, "sub": "app" })
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn round_trip_returns_the_claims() {
        let (key, pkcs8) = TokenSigningKey::generate().unwrap();
        let token = key.sign(&claims()).unwrap();
        let verified = verify_jwt(&token, &[key.verifying_key()]).unwrap();
        assert_eq!(Value::Object(verified), claims());

        let header = decode_object(&segments(&token)[0]).unwrap();
        assert_eq!(header.get("alg"), Some(&json!("ES256")));
        assert_eq!(header.get("typ"), Some(&json!("JWT")));
        assert_eq!(header.get("kid"), Some(&json!(key.kid())));

        let reloaded = TokenSigningKey::from_pkcs8(pkcs8.expose()).unwrap();
        assert_eq!(reloaded.kid(), key.kid());
        let token = reloaded.sign(&claims()).unwrap();
        assert!(verify_jwt(&token, &[key.verifying_key()]).is_ok());
    }

    #[test]
    fn verification_tries_the_key_with_the_matching_kid() {
        let (a, _) = TokenSigningKey::generate().unwrap();
        let (b, _) = TokenSigningKey::generate().unwrap();
        assert_ne!(a.kid(), b.kid());
        let keys = [a.verifying_key(), b.verifying_key()];
        assert!(verify_jwt(&a.sign(&claims()).unwrap(), &keys).is_ok());
        assert!(verify_jwt(&b.sign(&claims()).unwrap(), &keys).is_ok());
    }

    #[test]
    fn tampered_payload_is_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let parts = segments(&key.sign(&claims()).unwrap());
        let mut forged = claims();
        forged["sub"] = json!("admin");
        let token = format!(
            "{}.{}.{}",
            parts[0],
            b64(&serde_json::to_vec(&forged).unwrap()),
            parts[2]
        );
        assert_eq!(
            verify_jwt(&token, &[key.verifying_key()]),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn tampered_signature_is_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let parts = segments(&key.sign(&claims()).unwrap());
        let signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        for i in [0, 31, 32, 63] {
            let mut bad = signature.clone();
            bad[i] ^= 0x01;
            let token = format!("{}.{}.{}", parts[0], parts[1], b64(&bad));
            assert_eq!(
                verify_jwt(&token, &[key.verifying_key()]),
                Err(JwtError::BadSignature)
            );
        }
        let short = format!("{}.{}.{}", parts[0], parts[1], b64(&signature[..63]));
        assert_eq!(
            verify_jwt(&short, &[key.verifying_key()]),
            Err(JwtError::BadSignature)
        );
        let empty = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(
            verify_jwt(&empty, &[key.verifying_key()]),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let header = json!({ "alg": "none", "typ": "JWT", "kid": key.kid() });
        let token = format!(
            "{}.{}.",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&claims()).unwrap())
        );
        assert_eq!(
            verify_jwt(&token, &[key.verifying_key()]),
            Err(JwtError::UnsupportedAlgorithm)
        );
        for alg in ["None", "es256", "ES384", "RS256"] {
            let header = json!({ "alg": alg, "kid": key.kid() });
            let token = key
                .sign_parts(&serde_json::to_vec(&header).unwrap(), b"{}")
                .unwrap();
            assert_eq!(
                verify_jwt(&token, &[key.verifying_key()]),
                Err(JwtError::UnsupportedAlgorithm)
            );
        }
        let no_alg = key.sign_parts(br#"{"kid":"x"}"#, b"{}").unwrap();
        assert_eq!(
            verify_jwt(&no_alg, &[key.verifying_key()]),
            Err(JwtError::Malformed)
        );
    }

    #[test]
    fn hs256_keyed_with_the_public_key_is_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": key.kid() });
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&claims()).unwrap())
        );
        let mac_key = hmac::Key::new(hmac::HMAC_SHA256, key.verifying_key().public_point());
        let tag = hmac::sign(&mac_key, input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(
            verify_jwt(&token, &[key.verifying_key()]),
            Err(JwtError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn missing_or_unknown_kid_is_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let (other, _) = TokenSigningKey::generate().unwrap();
        let token = key.sign(&claims()).unwrap();
        assert_eq!(
            verify_jwt(&token, &[other.verifying_key()]),
            Err(JwtError::UnknownKey)
        );
        assert_eq!(verify_jwt(&token, &[]), Err(JwtError::UnknownKey));

        let header = br#"{"alg":"ES256","typ":"JWT"}"#;
        let no_kid = key
            .sign_parts(header, &serde_json::to_vec(&claims()).unwrap())
            .unwrap();
        assert_eq!(
            verify_jwt(&no_kid, &[key.verifying_key()]),
            Err(JwtError::UnknownKey)
        );
        let header = br#"{"alg":"ES256","kid":7}"#;
        let numeric_kid = key
            .sign_parts(header, &serde_json::to_vec(&claims()).unwrap())
            .unwrap();
        assert_eq!(
            verify_jwt(&numeric_kid, &[key.verifying_key()]),
            Err(JwtError::UnknownKey)
        );
    }

    #[test]
    fn signature_from_another_key_with_the_same_kid_is_refused() {
        let (trusted, _) = TokenSigningKey::generate().unwrap();
        let (attacker, _) = TokenSigningKey::generate().unwrap();
        let header =
            serde_json::to_vec(&json!({ "alg": "ES256", "typ": "JWT", "kid": trusted.kid() }))
                .unwrap();
        let token = attacker
            .sign_parts(&header, &serde_json::to_vec(&claims()).unwrap())
            .unwrap();
        assert_eq!(
            verify_jwt(&token, &[trusted.verifying_key()]),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let keys = [key.verifying_key()];
        let token = key.sign(&claims()).unwrap();
        for bad in crate::test_keys::malformed_variants(&token) {
            assert_eq!(verify_jwt(&bad, &keys), Err(JwtError::Malformed), "{bad}");
        }
        let oversized = format!("{token}{}", "A".repeat(MAX_TOKEN_LEN));
        assert_eq!(verify_jwt(&oversized, &keys), Err(JwtError::Malformed));

        let crit = br#"{"alg":"ES256","kid":"k","crit":["exp"]}"#;
        let with_crit = key.sign_parts(crit, b"{}").unwrap();
        assert_eq!(verify_jwt(&with_crit, &keys), Err(JwtError::Malformed));

        let array_claims = key.sign(&json!(["not", "an", "object"]));
        assert!(matches!(
            array_claims,
            Err(CryptoError::Jwt(JwtError::Malformed))
        ));
        let header = serde_json::to_vec(&json!({ "alg": "ES256", "kid": key.kid() })).unwrap();
        let signed_array = key.sign_parts(&header, b"[1,2]").unwrap();
        assert_eq!(verify_jwt(&signed_array, &keys), Err(JwtError::Malformed));
        let signed_garbage = key.sign_parts(&header, b"not json").unwrap();
        assert_eq!(verify_jwt(&signed_garbage, &keys), Err(JwtError::Malformed));
    }

    #[test]
    fn public_jwk_has_the_expected_members_and_round_trips() {
        let (key, _) = TokenSigningKey::generate().unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk.as_object().unwrap().len(), 7);
        assert!(jwk.get("d").is_none());
        let parsed = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(parsed, key.verifying_key());
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // The P-256 key of RFC 7517 appendix A.1; the expected value was computed independently
        // (Python hashlib over the RFC 7638 canonical form).
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        });
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.kid(), "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
        let mut named = jwk.clone();
        named["kid"] = json!("external-1");
        assert_eq!(VerifyingKey::from_jwk(&named).unwrap().kid(), "external-1");
    }

    #[test]
    fn invalid_public_keys_are_refused() {
        assert!(VerifyingKey::from_point(&[0x04; 64]).is_err());
        assert!(VerifyingKey::from_point(&[0x02; 65]).is_err());
        let (key, _) = TokenSigningKey::generate().unwrap();
        let jwk = key.public_jwk();
        for (member, value) in [
            ("kty", json!("RSA")),
            ("crv", json!("P-384")),
            ("alg", json!("HS256")),
            ("x", json!("AAAA")),
            ("kid", json!(5)),
        ] {
            let mut bad = jwk.clone();
            bad[member] = value;
            assert!(VerifyingKey::from_jwk(&bad).is_err(), "{member}");
        }
        assert!(TokenSigningKey::from_pkcs8(b"not a key").is_err());
    }

    #[test]
    fn signing_key_debug_shows_only_the_kid() {
        let (key, pkcs8) = TokenSigningKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()));
        assert!(!shown.contains(&b64(pkcs8.expose())));
        assert_eq!(
            format!("{pkcs8:?}"),
            format!("SecretBytes([REDACTED; {} bytes])", pkcs8.len())
        );
    }
}
