//! Key release in the engine, with a controlled clock: each `enc` wraps the key so the attested
//! target recovers it, and every refusal (proof, disabled, not exportable, bad `enc`, malformed
//! token, untrusted issuer, bad signature, expiry, unmet policy, no target key) changes nothing.

use arca_crypto::keys::{SignatureAlgorithm, WrapAlgorithm};
use arca_crypto::SecretString;
use serde_json::{json, Value};

use super::*;
use crate::attestation::{self, AttestationIssuer};

const ISSUER: &str = "https://attest.arca.test";

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
        json!({ "keys": [Value::Object(self.signing.public_jwk())] })
    }

    /// A token signed by `signer` (the attester's key by default) with `claims` over the usual
    /// ones (issuer, a 5-minute window around `now`, the target key).
    fn token_by(&self, signer: &PrivateKey, claims: Value, now: i64) -> SecretString {
        let mut target = Value::Object(self.target.public_jwk());
        target["key_ops"] = json!(["encrypt"]);
        target["kid"] = json!("target-1");
        let mut body = json!({"iss": ISSUER, "nbf": now - 5, "exp": now + 300,
            "x-ms-runtime": {"keys": [target]}});
        for (k, v) in claims.as_object().unwrap() {
            body[k] = v.clone();
        }
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            crate::b64url(header.to_string().as_bytes()),
            crate::b64url(body.to_string().as_bytes())
        );
        let digest = arca_crypto::sha256(input.as_bytes());
        let signature = signer
            .sign_digest(SignatureAlgorithm::Rs256, &digest)
            .unwrap();
        SecretString::new(format!("{input}.{}", crate::b64url(&signature)))
    }

    fn token(&self, claims: Value, now: i64) -> SecretString {
        self.token_by(&self.signing, claims, now)
    }
}

fn policy() -> KeyReleasePolicy {
    let document = json!({"version": "1.0.0", "anyOf": [{"authority": ISSUER, "allOf": [
        {"claim": "tee", "equals": "sevsnpvm"},
        {"anyOf": [{"claim": "svn", "greaterOrEquals": 3}, {"claim": "debug", "equals": false}]},
    ]}]});
    KeyReleasePolicy {
        data: Some(crate::b64url(document.to_string().as_bytes())),
        ..KeyReleasePolicy::default()
    }
}

fn exportable() -> NewKey {
    NewKey {
        attributes: KeyAttributesIn {
            exportable: Some(true),
            ..Default::default()
        },
        release_policy: Some(policy()),
        ..new_key("RSA", None, None)
    }
}

async fn trusting(attester: &Attester) -> Setup {
    let s = setup().await;
    let issuer = AttestationIssuer {
        issuer: ISSUER.into(),
        jwks: attester.jwks(),
    };
    attestation::put_issuer(&s.engine, &s.vault.name, issuer)
        .await
        .unwrap();
    s
}

impl Setup {
    async fn release(
        &self,
        key: &str,
        target: SecretString,
        enc: Option<&str>,
    ) -> EngineResult<Released> {
        let auth = self.proof(Operation::KeyRelease, Some(key));
        let request = ReleaseRequest {
            target,
            nonce: Some("n".into()),
            enc: enc.map(str::to_owned),
        };
        release(&self.engine, &auth, &self.vault, &name(key), None, request).await
    }
}

/// What the target does with a release: RSA-OAEP-decrypt the transfer key, then unwrap.
fn received(attester: &Attester, released: &Released) -> Vec<u8> {
    let envelope: Value =
        serde_json::from_slice(&crate::b64url_decode(&released.key_hsm).unwrap()).unwrap();
    assert_eq!(envelope["header"]["kid"], "target-1");
    assert_eq!(envelope["header"]["enc"], released.enc);
    let blob = crate::b64url_decode(envelope["ciphertext"].as_str().unwrap()).unwrap();
    let (head, rest) = blob.split_at(256);
    let wrap = match released.enc {
        "CKM_RSA_AES_KEY_WRAP" => WrapAlgorithm::RsaOaep,
        "RSA_AES_KEY_WRAP_256" => WrapAlgorithm::RsaOaep256,
        _ => return Vec::new(), // OAEP-SHA384 has no wrapKey algorithm to decrypt with here.
    };
    let aes = attester.target.unwrap_key(wrap, head).unwrap();
    let transfer = PrivateKey::from_oct(&aes).unwrap();
    transfer
        .unwrap_key(WrapAlgorithm::AesKwPad, rest)
        .unwrap()
        .expose()
        .to_vec()
}

#[tokio::test]
async fn each_enc_wraps_the_key_for_the_target() {
    let attester = Attester::new();
    let s = trusting(&attester).await;
    let created = s.create("k", exportable()).await.unwrap();
    for enc in [
        None,
        Some("CKM_RSA_AES_KEY_WRAP"),
        Some("RSA_AES_KEY_WRAP_256"),
        Some("RSA_AES_KEY_WRAP_384"),
    ] {
        let token = attester.token(json!({"tee": "sevsnpvm", "svn": 4}), NOW);
        let released = s.release("k", token, enc).await.unwrap();
        assert_eq!(released.enc, enc.unwrap_or("CKM_RSA_AES_KEY_WRAP"));
        assert_eq!(released.view.version, created.version);
        assert_eq!(released.nonce.as_deref(), Some("n"));
        let pkcs8 = received(&attester, &released);
        if !pkcs8.is_empty() {
            // The PKCS#8 key is the vault's key: it signs what the vault's public key verifies.
            let stored = PrivateKey::from_storage(&[&[1u8, 1][..], &pkcs8].concat()).unwrap();
            assert_eq!(stored.public_jwk(), created_public(&created));
        }
    }
}

fn created_public(created: &KeyView) -> serde_json::Map<String, Value> {
    let mut jwk = serde_json::Map::new();
    jwk.insert("kty".into(), json!("RSA"));
    jwk.insert("n".into(), json!(created.key.n));
    jwk.insert("e".into(), json!(created.key.e));
    jwk
}

#[tokio::test]
async fn every_refusal_changes_nothing() {
    let attester = Attester::new();
    let s = trusting(&attester).await;
    s.create("k", exportable()).await.unwrap();
    let good = json!({"tee": "sevsnpvm", "debug": false});
    let stranger = PrivateKey::generate_rsa(2048).unwrap();
    let refused = |r: EngineResult<Released>| match r {
        Err(EngineError::ReleaseRefused(m)) => m,
        other => panic!("{:?}", other.map(|_| ())),
    };
    let m = refused(
        s.release("k", attester.token_by(&stranger, good.clone(), NOW), None)
            .await,
    );
    assert!(m.contains("signature"), "{m}");
    let m = refused(
        s.release("k", attester.token(good.clone(), NOW - 3600), None)
            .await,
    );
    assert!(m.contains("expired"), "{m}");
    let m = refused(
        s.release("k", attester.token(good.clone(), NOW + 3600), None)
            .await,
    );
    assert!(m.contains("not yet valid"), "{m}");
    let other = json!({"tee": "sevsnpvm", "debug": false, "iss": "https://other.test"});
    let m = refused(s.release("k", attester.token(other, NOW), None).await);
    assert!(m.contains("not trusted"), "{m}");
    let unmet = json!({"tee": "sevsnpvm", "debug": true, "svn": 2});
    let m = refused(s.release("k", attester.token(unmet, NOW), None).await);
    assert!(m.contains("release policy"), "{m}");
    let no_exp = json!({"tee": "sevsnpvm", "debug": false, "exp": null});
    assert!(s
        .release("k", attester.token(no_exp, NOW), None)
        .await
        .is_err());

    let invalid = |r: EngineResult<Released>| assert!(matches!(r, Err(EngineError::Invalid(_))));
    invalid(s.release("k", SecretString::new("a.b".into()), None).await);
    invalid(
        s.release("k", SecretString::new("x".repeat(20_000)), None)
            .await,
    );
    invalid(
        s.release("k", attester.token(good.clone(), NOW), Some("A256KW"))
            .await,
    );
    let no_target = json!({"tee": "sevsnpvm", "debug": false, "x-ms-runtime": {"keys": []}});
    invalid(s.release("k", attester.token(no_target, NOW), None).await);

    // Not exportable, disabled, and a proof for another operation.
    s.create("plain", new_key("RSA", None, None)).await.unwrap();
    let r = s
        .release("plain", attester.token(good.clone(), NOW), None)
        .await;
    assert!(
        matches!(r, Err(EngineError::NotPermitted { .. })),
        "{:?}",
        r.map(|_| ())
    );
    s.update(
        "k",
        KeyPatch {
            attributes: KeyAttributesIn {
                common: SecretAttributesIn {
                    enabled: Some(false),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..KeyPatch::default()
        },
    )
    .await;
    let r = s
        .release("k", attester.token(good.clone(), NOW), None)
        .await;
    assert!(
        matches!(r, Err(EngineError::Disabled { .. })),
        "{:?}",
        r.map(|_| ())
    );
    let wrong = s.proof(Operation::KeyGet, Some("k"));
    let request = ReleaseRequest {
        target: attester.token(good, NOW),
        nonce: None,
        enc: None,
    };
    assert!(
        release(&s.engine, &wrong, &s.vault, &name("k"), None, request)
            .await
            .is_err()
    );
    // Still one version, as created.
    let versions = list_versions(
        &s.engine,
        &s.proof(Operation::KeyListVersions, Some("k")),
        &s.vault,
        &name("k"),
        None,
        25,
    )
    .await
    .unwrap();
    assert_eq!(versions.items.len(), 1);
}
