//! Key release over HTTP: the admin API's attestation issuers of a vault (set, list, show,
//! delete, limits) and a release by the data plane, with the test playing the attestation
//! service (an RSA issuer key from `arca_crypto::keys`, tokens signed RS256 over their digest).

use crate::common;

use arca_crypto::keys::{PrivateKey, SignatureAlgorithm};
use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const ISSUER: &str = "https://attest.arca.test";
const ISSUERS: &str = "/admin/vaults/default/attestation-issuers";

fn b64(bytes: &[u8]) -> String {
    arca_server::b64url(bytes)
}

/// The attestation service of the test: its signing key and the attested target key.
struct Attester {
    signing: PrivateKey,
    target: PrivateKey,
}

impl Attester {
    fn new() -> Attester {
        Attester {
            signing: PrivateKey::generate_rsa(2048).unwrap(),
            target: PrivateKey::generate_rsa(2048).unwrap(),
        }
    }

    fn jwks(&self) -> Value {
        let mut jwk = Value::Object(self.signing.public_jwk());
        jwk["kid"] = json!("attest-1");
        jwk["use"] = json!("sig");
        json!({ "keys": [jwk] })
    }

    fn token(&self, claims: Value, now: i64) -> String {
        let mut target = Value::Object(self.target.public_jwk());
        target["kid"] = json!("TpmEphemeralEncryptionKey");
        target["key_ops"] = json!(["encrypt"]);
        let mut body = json!({"iss": ISSUER, "nbf": now - 5, "exp": now + 300,
            "x-ms-runtime": {"keys": [target]}});
        for (k, v) in claims.as_object().unwrap() {
            body[k] = v.clone();
        }
        let header = json!({"alg": "RS256", "kid": "attest-1", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(body.to_string().as_bytes())
        );
        let digest = arca_crypto::sha256(input.as_bytes());
        let signature = self
            .signing
            .sign_digest(SignatureAlgorithm::Rs256, &digest)
            .unwrap();
        format!("{input}.{}", b64(&signature))
    }
}

fn policy() -> Value {
    let document = json!({"version": "1.0.0", "anyOf": [{"authority": format!("{ISSUER}/"),
        "allOf": [{"claim": "tee", "equals": "sevsnpvm"}]}]});
    json!({"data": b64(document.to_string().as_bytes()), "immutable": true})
}

async fn call(h: &Harness, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    h.call(method, &format!("{path}?{V}"), body).await
}

#[tokio::test]
async fn issuers_are_set_listed_shown_and_deleted() {
    let h = harness().await;
    let attester = Attester::new();
    let empty = h.admin_get(ISSUERS).await;
    assert_eq!(empty, json!({"value": []}));
    let body = json!({"issuer": ISSUER, "jwks": attester.jwks()});
    let set = h
        .admin_ok(StatusCode::OK, "PUT", ISSUERS, Some(body.clone()))
        .await;
    assert_eq!(set, body);
    assert_eq!(
        h.admin_get(ISSUERS).await,
        json!({ "value": [body.clone()] })
    );
    let one = format!("{ISSUERS}?issuer=https%3A%2F%2Fattest.arca.test");
    assert_eq!(h.admin_get(&one).await, body);
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &one, None)
        .await;
    let (status, _) = h.admin("GET", &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.admin("DELETE", &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.admin("DELETE", ISSUERS, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn issuers_over_the_limits_are_refused_and_change_nothing() {
    let h = harness().await;
    let attester = Attester::new();
    let bad = [
        json!({"issuer": "http://attest.arca.test", "jwks": attester.jwks()}),
        json!({"issuer": format!("https://{}", "a".repeat(600)), "jwks": attester.jwks()}),
        json!({"issuer": ISSUER, "jwks": {"keys": []}}),
        json!({"issuer": ISSUER, "jwks": {"keys": vec![attester.jwks()["keys"][0].clone(); 17]}}),
        json!({"issuer": ISSUER}),
    ];
    for body in bad {
        let (status, answer) = h.admin("PUT", ISSUERS, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    assert_eq!(h.admin_get(ISSUERS).await, json!({"value": []}));
    for i in 0..16 {
        let body = json!({"issuer": format!("{ISSUER}/{i}"), "jwks": attester.jwks()});
        h.admin_ok(StatusCode::OK, "PUT", ISSUERS, Some(body)).await;
    }
    let seventeenth = json!({"issuer": format!("{ISSUER}/x"), "jwks": attester.jwks()});
    let (status, _) = h.admin("PUT", ISSUERS, Some(seventeenth)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .admin("GET", "/admin/vaults/nosuchvault/attestation-issuers", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_release_is_signed_by_the_release_key_and_refusals_say_why() {
    let h = harness().await;
    let attester = Attester::new();
    let body = json!({"issuer": ISSUER, "jwks": attester.jwks()});
    h.admin_ok(StatusCode::OK, "PUT", ISSUERS, Some(body)).await;
    let (status, created) = call(
        &h,
        "POST",
        "/keys/x/create",
        Some(json!({"kty": "RSA", "attributes": {"exportable": true}, "release_policy": policy()})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let now = h.clock_now();
    let token = attester.token(json!({"tee": "sevsnpvm"}), now);
    let (status, released) = call(
        &h,
        "POST",
        "/keys/x//release",
        Some(json!({"target": token, "enc": "RSA_AES_KEY_WRAP_256", "nonce": "n1"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    let jws = released["value"].as_str().unwrap();
    let keys = [h.state.release_signing.verifying_key()];
    let payload = arca_crypto::verify_jwt(jws, &keys).unwrap();
    assert_eq!(payload["request"]["nonce"], "n1");
    assert_eq!(
        payload["response"]["key"]["key"]["kid"],
        created["key"]["kid"]
    );
    assert!(payload["response"]["key"]["key"]["key_hsm"].is_string());
    // The access-token keys do not verify it.
    assert!(arca_crypto::verify_jwt(jws, &h.state.issuer.keys().verifying).is_err());

    let refusals = [
        (
            attester.token(json!({"tee": "sgx"}), now),
            StatusCode::FORBIDDEN,
        ),
        (
            attester.token(json!({"tee": "sevsnpvm", "exp": now - 600}), now),
            StatusCode::FORBIDDEN,
        ),
        (
            attester.token(json!({"tee": "sevsnpvm", "iss": "https://other.test"}), now),
            StatusCode::FORBIDDEN,
        ),
        ("a.b.c".to_owned(), StatusCode::BAD_REQUEST),
    ];
    for (token, expected) in refusals {
        let (status, answer) = call(
            &h,
            "POST",
            "/keys/x//release",
            Some(json!({"target": token})),
        )
        .await;
        assert_eq!(status, expected, "{answer}");
        assert!(!answer.to_string().contains(&token));
    }
    let (status, _) = call(
        &h,
        "POST",
        "/keys/x//release",
        Some(json!({"target": attester.token(json!({"tee": "sevsnpvm"}), now), "enc": "A256KW"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &h,
        "PATCH",
        "/keys/x",
        Some(json!({"release_policy": {"data": "e30"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an immutable policy stays");
}

#[tokio::test]
async fn the_release_signing_key_is_published() {
    let h = harness().await;
    let request = get(ADMIN_HOST, "/release-signing-keys", &[]);
    let (status, body) = split(h.send(request).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["keys"][0], h.state.release_signing.public_jwk());
}
