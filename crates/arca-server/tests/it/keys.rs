//! The keys API through the whole router: every route answers Key Vault's bodies (ids, public
//! JWKs without private members, operation results), and refusals carry Key Vault's statuses and
//! codes. Driven in-process (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// The version at the end of a `kid`.
fn version_of(bundle: &Value) -> String {
    let kid = bundle["key"]["kid"].as_str().unwrap();
    kid.rsplit('/').next().unwrap().to_owned()
}

fn b64(bytes: &[u8]) -> String {
    arca_server::b64url(bytes)
}

impl Harness {
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, &format!("{path}?{V}"), body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
        answer
    }

    async fn refused(&self, method: &str, path: &str, body: Value) -> (StatusCode, String) {
        let (status, answer) = self.call(method, &format!("{path}?{V}"), Some(body)).await;
        let (code, inner) = code(&answer);
        (status, format!("{code}/{}", inner.unwrap_or("-")))
    }
}

#[tokio::test]
async fn a_key_lives_its_whole_life_over_http() {
    let h = harness().await;
    let created = h
        .ok(
            "POST",
            "/keys/signer/create",
            Some(json!({"kty": "EC", "crv": "P-256", "tags": {"a": "b"}})),
        )
        .await;
    let version = version_of(&created);
    assert_eq!(
        created["key"]["kid"],
        format!("https://{HOST}/keys/signer/{version}")
    );
    assert_eq!(created["key"]["key_ops"], json!(["sign", "verify"]));
    assert_eq!(created["attributes"]["exportable"], false);
    assert_eq!(created["attributes"]["recoverableDays"], 90);
    assert_eq!(created["tags"], json!({"a": "b"}));
    for member in PRIVATE_MEMBERS {
        assert!(created["key"].get(member).is_none(), "{created}");
    }
    assert_eq!(h.ok("GET", "/keys/signer/", None).await, created);

    // Sign with the current version (empty version segment), verify with the named one.
    let digest = b64(&[7; 32]);
    let signed = h
        .ok(
            "POST",
            "/keys/signer//sign",
            Some(json!({"alg": "ES256", "value": digest})),
        )
        .await;
    assert_eq!(signed["kid"], created["key"]["kid"]);
    let verified = h
        .ok(
            "POST",
            &format!("/keys/signer/{version}/verify"),
            Some(json!({"alg": "ES256", "digest": digest, "value": signed["value"]})),
        )
        .await;
    assert_eq!(verified, json!({"value": true}));

    // Encrypt and decrypt with an RSA key; wrap and unwrap with an AES key.
    h.ok(
        "POST",
        "/keys/rsa/create",
        Some(json!({"kty": "RSA-HSM", "key_size": 2048})),
    )
    .await;
    let plain = b64(b"data key");
    let sealed = h
        .ok(
            "POST",
            "/keys/rsa//encrypt",
            Some(json!({"alg": "RSA-OAEP-256", "value": plain})),
        )
        .await;
    let opened = h
        .ok(
            "POST",
            "/keys/rsa//decrypt",
            Some(json!({"alg": "RSA-OAEP-256", "value": sealed["value"]})),
        )
        .await;
    assert_eq!(opened["value"], plain);
    let aes = h
        .ok(
            "POST",
            "/keys/aes/create",
            Some(json!({"kty": "oct-HSM", "key_size": 256})),
        )
        .await;
    assert_eq!(
        aes["key"],
        json!({"kid": aes["key"]["kid"], "kty": "oct-HSM", "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"]})
    );
    assert_eq!(aes["attributes"]["key_size"], 256);
    let cek = b64(&[3; 32]);
    let wrapped = h
        .ok(
            "POST",
            "/keys/aes//wrapkey",
            Some(json!({"alg": "A256KW", "value": cek})),
        )
        .await;
    let unwrapped = h
        .ok(
            "POST",
            "/keys/aes//unwrapKey",
            Some(json!({"alg": "A256KW", "value": wrapped["value"]})),
        )
        .await;
    assert_eq!(unwrapped["value"], cek);
    let gcm = h
        .ok(
            "POST",
            "/keys/aes//encrypt",
            Some(json!({"alg": "A256GCM", "value": plain, "aad": "aGVhZGVy"})),
        )
        .await;
    assert_eq!(gcm["aad"], "aGVhZGVy");
    let opened = h
        .ok(
            "POST",
            "/keys/aes//decrypt",
            Some(json!({"alg": "A256GCM", "value": gcm["value"], "iv": gcm["iv"], "tag": gcm["tag"], "aad": "aGVhZGVy"})),
        )
        .await;
    assert_eq!(opened["value"], plain);

    // Listings name keys without versions; version listings with them.
    let listed = h.ok("GET", "/keys", None).await;
    let kids: Vec<&str> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [
            format!("https://{HOST}/keys/aes"),
            format!("https://{HOST}/keys/rsa"),
            format!("https://{HOST}/keys/signer")
        ]
    );
    assert!(listed["value"][0].get("key").is_none());

    // Update, rotate, rotation policy.
    let updated = h
        .ok(
            "PATCH",
            "/keys/signer",
            Some(json!({"key_ops": ["verify"], "attributes": {"exp": START + 1000}})),
        )
        .await;
    assert_eq!(updated["key"]["key_ops"], json!(["verify"]));
    assert_eq!(updated["attributes"]["exp"], START + 1000);
    let policy = h.ok("GET", "/keys/signer/rotationpolicy", None).await;
    assert_eq!(
        policy["id"],
        format!("https://{HOST}/keys/signer/rotationpolicy")
    );
    assert_eq!(policy["lifetimeActions"][0]["action"]["type"], "Notify");
    let policy = h
        .ok(
            "PUT",
            "/keys/signer/rotationpolicy",
            Some(json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "rotate"}}], "attributes": {"expiryTime": "P90D"}})),
        )
        .await;
    assert_eq!(policy["lifetimeActions"][0]["action"]["type"], "Rotate");
    assert_eq!(policy["attributes"]["expiryTime"], "P90D");
    let rotated = h.ok("POST", "/keys/signer/rotate", None).await;
    assert_ne!(version_of(&rotated), version);
    assert_eq!(rotated["key"]["key_ops"], json!(["verify"]));
    assert_eq!(rotated["attributes"]["exp"], h.clock_now() + 90 * 86_400);
    let versions = h.ok("GET", "/keys/signer/versions", None).await;
    assert_eq!(versions["value"].as_array().unwrap().len(), 2);

    // Backup, delete, purge, restore.
    let blob = h.ok("POST", "/keys/signer/backup", None).await;
    let deleted = h.ok("DELETE", "/keys/signer", None).await;
    assert_eq!(
        deleted["recoveryId"],
        format!("https://{HOST}/deletedkeys/signer")
    );
    assert!(deleted["scheduledPurgeDate"].is_i64());
    let got = h.ok("GET", "/deletedkeys/signer", None).await;
    assert_eq!(got["key"]["kid"], rotated["key"]["kid"]);
    // A soft-deleted name cannot be reused, and its key cannot be used.
    let again = json!({"kty": "EC"});
    assert_eq!(
        h.refused("POST", "/keys/signer/create", again).await,
        (
            StatusCode::CONFLICT,
            "Conflict/ObjectIsDeletedButRecoverable".to_owned()
        )
    );
    let verify = json!({"alg": "ES256", "digest": digest, "value": signed["value"]});
    assert_eq!(
        h.refused("POST", &format!("/keys/signer/{version}/verify"), verify)
            .await,
        (StatusCode::NOT_FOUND, "KeyNotFound/-".to_owned())
    );
    let (status, _) = h
        .call("DELETE", &format!("/deletedkeys/signer?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let restored = h.ok("POST", "/keys/restore", Some(blob)).await;
    assert_eq!(restored["key"], rotated["key"]);

    // Random bytes.
    let random = h.ok("POST", "/rng", Some(json!({"count": 16}))).await;
    let bytes = arca_server::b64url_decode(random["value"].as_str().unwrap()).unwrap();
    assert_eq!(bytes.len(), 16);
}

#[tokio::test]
async fn key_refusals_carry_key_vaults_codes() {
    let h = harness().await;
    h.ok(
        "POST",
        "/keys/ec/create",
        Some(json!({"kty": "EC", "key_ops": ["verify"]})),
    )
    .await;
    let digest = b64(&[1; 32]);
    let cases = [
        (
            "POST",
            "/keys/ec//sign",
            json!({"alg": "ES256", "value": digest}),
            StatusCode::FORBIDDEN,
            "Forbidden/KeyOperationForbidden",
        ),
        (
            "POST",
            "/keys/ec//verify",
            json!({"alg": "ES256", "digest": b64(&[1; 20]), "value": digest}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "POST",
            "/keys/ec//verify",
            json!({"alg": "ES384", "digest": b64(&[1; 48]), "value": digest}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "POST",
            "/keys/ec//verify",
            json!({"alg": "ES256", "digest": "***", "value": digest}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "POST",
            "/keys/missing//sign",
            json!({"alg": "ES256", "value": digest}),
            StatusCode::NOT_FOUND,
            "KeyNotFound/-",
        ),
        (
            "POST",
            "/keys/ec/create",
            json!({"kty": "RSA", "public_exponent": 3}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "PUT",
            "/keys/imported",
            json!({"key": {"kty": "oct", "k": b64(&[1; 10])}}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "POST",
            "/rng",
            json!({"count": 0}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
        (
            "PUT",
            "/keys/ec/rotationpolicy",
            json!({"attributes": {"expiryTime": "P7D"}}),
            StatusCode::BAD_REQUEST,
            "BadParameter/-",
        ),
    ];
    for (method, path, body, status, code) in cases {
        assert_eq!(
            h.refused(method, path, body).await,
            (status, code.to_owned()),
            "{method} {path}"
        );
    }
    h.ok(
        "PATCH",
        "/keys/ec",
        Some(json!({"attributes": {"enabled": false}})),
    )
    .await;
    let verify = json!({"alg": "ES256", "digest": digest, "value": digest});
    assert_eq!(
        h.refused("POST", "/keys/ec//verify", verify).await,
        (StatusCode::FORBIDDEN, "Forbidden/KeyDisabled".to_owned())
    );
    let (status, body) = h.call("GET", &format!("/keys/ec?{V}"), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ("Forbidden", Some("KeyDisabled")))
    );
    // Nothing was created by the refused import.
    let (status, _) = h.call("GET", &format!("/keys/imported?{V}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
