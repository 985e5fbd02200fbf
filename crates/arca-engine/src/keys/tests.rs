//! The keys engine on a real embedded store: one round trip per algorithm and key type, Key
//! Vault's rules of use (key_ops, nbf/exp, disabled), the provider's checks surfacing as
//! invalid requests, rotation, rotation policies, backup and restore, and views that never
//! carry private members.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arca_core::{FixedClock, ObjectKind, ObjectName, Operation, VersionId};
use arca_crypto::keys::SymmetricParams;
use arca_crypto::{Keyring, SecretBytes};
use arca_proto::keys::{
    KeyAttributesIn, KeyReleasePolicy, KeyRotationPolicy, PrivateJsonWebKey, SecretAttributesIn,
};
use arca_proto::SecretText;
use arca_store::Listing;

use super::*;
use crate::error::Refusal;
use crate::test_support::{open, setup, Setup, NOW};

mod cache;
mod release;
mod rotation;

const DAY: i64 = 86_400;

fn name(raw: &str) -> ObjectName {
    ObjectName::parse(raw).unwrap()
}

fn new_key(kty: &str, size: Option<u32>, crv: Option<&str>) -> NewKey {
    NewKey {
        kty: kty.into(),
        key_size: size,
        public_exponent: None,
        crv: crv.map(str::to_owned),
        key_ops: None,
        attributes: KeyAttributesIn::default(),
        tags: None,
        release_policy: None,
    }
}

impl Setup {
    async fn create(&self, key: &str, new: NewKey) -> EngineResult<KeyView> {
        let auth = self.proof(Operation::KeyCreate, Some(key));
        create(&self.engine, &auth, &self.vault, &name(key), new).await
    }

    async fn update(&self, key: &str, patch: KeyPatch) -> KeyView {
        let auth = self.proof(Operation::KeyUpdate, Some(key));
        update(&self.engine, &auth, &self.vault, &name(key), None, patch)
            .await
            .unwrap()
    }

    /// The proof for `operation` on `key`, and where that key is.
    fn use_key<'a>(
        &'a self,
        operation: Operation,
        key: &'a ObjectName,
        version: Option<&'a VersionId>,
    ) -> (Authorized, KeyRef<'a>) {
        let at = KeyRef {
            vault: &self.vault,
            name: key,
            version,
        };
        (self.proof(operation, Some(key.as_str())), at)
    }

    async fn sign_at(
        &self,
        key: &str,
        version: Option<&VersionId>,
        alg: &str,
        digest: &[u8],
    ) -> EngineResult<Outcome> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeySign, &key, version);
        sign(&self.engine, &auth, at, alg, digest).await
    }

    async fn sign(&self, key: &str, alg: &str, digest: &[u8]) -> EngineResult<Outcome> {
        self.sign_at(key, None, alg, digest).await
    }

    async fn verify_at(
        &self,
        key: &str,
        version: Option<&VersionId>,
        alg: &str,
        digest: &[u8],
        signature: &[u8],
    ) -> EngineResult<bool> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeyVerify, &key, version);
        verify(&self.engine, &auth, at, alg, digest, signature).await
    }

    async fn verify(&self, key: &str, alg: &str, digest: &[u8], sig: &[u8]) -> EngineResult<bool> {
        self.verify_at(key, None, alg, digest, sig).await
    }

    async fn encrypt(
        &self,
        key: &str,
        alg: &str,
        plain: &[u8],
        params: SymmetricParams<'_>,
    ) -> EngineResult<Outcome> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeyEncrypt, &key, None);
        let plain = SecretBytes::from_slice(plain);
        encrypt(&self.engine, &auth, at, alg, &plain, params).await
    }

    async fn decrypt(
        &self,
        key: &str,
        alg: &str,
        cipher: &[u8],
        params: SymmetricParams<'_>,
    ) -> EngineResult<Outcome> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeyDecrypt, &key, None);
        decrypt(&self.engine, &auth, at, alg, cipher, params).await
    }

    async fn wrap(&self, key: &str, alg: &str, secret: &[u8]) -> EngineResult<Outcome> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeyWrap, &key, None);
        let secret = SecretBytes::from_slice(secret);
        wrap_key(&self.engine, &auth, at, alg, &secret).await
    }

    async fn unwrap(&self, key: &str, alg: &str, wrapped: &[u8]) -> EngineResult<Outcome> {
        let key = name(key);
        let (auth, at) = self.use_key(Operation::KeyUnwrap, &key, None);
        unwrap_key(&self.engine, &auth, at, alg, wrapped).await
    }

    async fn versions(&self, key: &str) -> Vec<KeyView> {
        let auth = self.proof(Operation::KeyListVersions, Some(key));
        list_versions(&self.engine, &auth, &self.vault, &name(key), None, 25)
            .await
            .unwrap()
            .items
    }

    async fn set_policy(&self, key: &str, json: &str) -> EngineResult<KeyRotationPolicy> {
        let auth = self.proof(Operation::KeyRotationPolicySet, Some(key));
        let policy: KeyRotationPolicy = serde_json::from_str(json).unwrap();
        update_rotation_policy(&self.engine, &auth, &self.vault, &name(key), policy).await
    }

    async fn rotate(&self, key: &str) -> KeyView {
        let auth = self.proof(Operation::KeyRotate, Some(key));
        rotate(&self.engine, &auth, &self.vault, &name(key))
            .await
            .unwrap()
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: EngineResult<T>) {
    assert!(matches!(result, Err(EngineError::Invalid(_))), "{result:?}");
}

fn assert_refused<T: std::fmt::Debug>(result: EngineResult<T>, want: Refusal) {
    match result {
        Err(EngineError::NotPermitted {
            kind: ObjectKind::Key,
            reason,
            ..
        }) if reason == want => {}
        other => panic!("expected {want:?}, got {other:?}"),
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn every_signature_algorithm_signs_and_verifies_on_its_key_type() {
    let s = setup().await;
    s.create("rsa", new_key("RSA", Some(2048), None))
        .await
        .unwrap();
    s.create("rsa-hsm", new_key("RSA-HSM", Some(3072), None))
        .await
        .unwrap();
    let mut cases: Vec<(&str, &str, usize)> = Vec::new();
    for key in ["rsa", "rsa-hsm"] {
        for (alg, len) in [
            ("RS256", 32),
            ("RS384", 48),
            ("RS512", 64),
            ("PS256", 32),
            ("PS384", 48),
            ("PS512", 64),
        ] {
            cases.push((key, alg, len));
        }
    }
    for (key, crv, alg, len) in [
        ("p256", "P-256", "ES256", 32),
        ("p256k", "P-256K", "ES256K", 32),
        ("p384", "P-384", "ES384", 48),
        ("p521", "P-521", "ES512", 64),
    ] {
        let kty = if key == "p384" { "EC-HSM" } else { "EC" };
        let view = s.create(key, new_key(kty, None, Some(crv))).await.unwrap();
        assert_eq!(view.key.crv.as_deref(), Some(crv));
        cases.push((key, alg, len));
    }
    for (key, alg, len) in cases {
        let digest = vec![0x5a; len];
        let signed = s.sign(key, alg, &digest).await.unwrap();
        let signature = signed.value.expose().to_vec();
        assert!(
            s.verify(key, alg, &digest, &signature).await.unwrap(),
            "{key} {alg}"
        );
        let other = vec![0x5b; len];
        assert!(
            !s.verify(key, alg, &other, &signature).await.unwrap(),
            "{key} {alg}"
        );
    }
}

#[tokio::test]
async fn every_encryption_algorithm_round_trips_on_its_key_type() {
    let s = setup().await;
    s.create("rsa", new_key("RSA", None, None)).await.unwrap();
    for alg in ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256"] {
        let sealed = s
            .encrypt("rsa", alg, b"data key", SymmetricParams::default())
            .await
            .unwrap();
        let opened = s
            .decrypt(
                "rsa",
                alg,
                sealed.value.expose(),
                SymmetricParams::default(),
            )
            .await
            .unwrap();
        assert_eq!(opened.value.expose(), b"data key", "{alg}");
        // A truncated ciphertext is refused, with one message whatever went wrong.
        let short = &sealed.value.expose()[..255];
        assert_invalid(
            s.decrypt("rsa", alg, short, SymmetricParams::default())
                .await,
        );
    }
    let plain = [0x42u8; 32];
    for bits in [128u32, 192, 256] {
        let key = format!("aes{bits}");
        s.create(&key, new_key("oct-HSM", Some(bits), None))
            .await
            .unwrap();
        for mode in ["GCM", "CBC", "CBCPAD"] {
            let alg = format!("A{bits}{mode}");
            let aad = (mode == "GCM").then_some(&b"header"[..]);
            let params = SymmetricParams {
                aad,
                ..SymmetricParams::default()
            };
            let sealed = s.encrypt(&key, &alg, &plain, params).await.unwrap();
            let iv = sealed.iv.clone().unwrap();
            let params = SymmetricParams {
                iv: Some(&iv),
                aad,
                tag: sealed.tag.as_deref(),
            };
            let opened = s
                .decrypt(&key, &alg, sealed.value.expose(), params)
                .await
                .unwrap();
            assert_eq!(opened.value.expose(), plain, "{alg}");
            if let Some(tag) = &sealed.tag {
                let mut bad = tag.clone();
                bad[0] ^= 1;
                let params = SymmetricParams {
                    tag: Some(&bad),
                    ..params
                };
                assert_invalid(s.decrypt(&key, &alg, sealed.value.expose(), params).await);
            }
        }
        // An algorithm for another AES size is refused.
        let wrong = if bits == 256 { "A128GCM" } else { "A256GCM" };
        assert_invalid(
            s.encrypt(&key, wrong, &plain, SymmetricParams::default())
                .await,
        );
    }
}

#[tokio::test]
async fn every_wrap_algorithm_round_trips_on_its_key_type() {
    let s = setup().await;
    s.create("rsa", new_key("RSA", Some(4096), None))
        .await
        .unwrap();
    let mut cases = vec![
        ("rsa", "RSA1_5"),
        ("rsa", "RSA-OAEP"),
        ("rsa", "RSA-OAEP-256"),
    ];
    for (key, bits, alg) in [
        ("kw128", 128, "A128KW"),
        ("kw192", 192, "A192KW"),
        ("kw256", 256, "A256KW"),
    ] {
        s.create(key, new_key("oct", Some(bits), None))
            .await
            .unwrap();
        cases.extend([
            (key, alg),
            (key, "CKM_AES_KEY_WRAP"),
            (key, "CKM_AES_KEY_WRAP_PAD"),
        ]);
    }
    let cek = [0x11u8; 32];
    for (key, alg) in cases {
        let wrapped = s.wrap(key, alg, &cek).await.unwrap();
        let unwrapped = s.unwrap(key, alg, wrapped.value.expose()).await.unwrap();
        assert_eq!(unwrapped.value.expose(), cek, "{key} {alg}");
    }
    // A wrapped key that was tampered with does not unwrap, with one message.
    let mut wrapped = s
        .wrap("kw256", "A256KW", &cek)
        .await
        .unwrap()
        .value
        .expose()
        .to_vec();
    wrapped[3] ^= 1;
    assert_invalid(s.unwrap("kw256", "A256KW", &wrapped).await);
}

#[tokio::test]
async fn key_ops_refuse_what_they_leave_out() {
    let s = setup().await;
    let new = NewKey {
        key_ops: Some(vec!["verify".into(), "verify".into()]),
        ..new_key("EC", None, Some("P-256"))
    };
    let view = s.create("ec", new).await.unwrap();
    assert_eq!(view.key.key_ops, ["verify"]);
    assert_refused(s.sign("ec", "ES256", &[1; 32]).await, Refusal::NotAllowed);
    let patch = KeyPatch {
        key_ops: Some(vec!["sign".into(), "verify".into()]),
        ..KeyPatch::default()
    };
    assert_eq!(s.update("ec", patch).await.key.key_ops, ["sign", "verify"]);
    s.sign("ec", "ES256", &[1; 32]).await.unwrap();
    // Defaults follow the key type; an unknown operation is refused.
    let rsa = s.create("rsa", new_key("RSA", None, None)).await.unwrap();
    assert_eq!(
        rsa.key.key_ops,
        [
            "encrypt",
            "decrypt",
            "sign",
            "verify",
            "wrapKey",
            "unwrapKey"
        ]
    );
    let bad = NewKey {
        key_ops: Some(vec!["launch".into()]),
        ..new_key("oct", None, None)
    };
    assert_invalid(s.create("bad", bad).await);
}

#[tokio::test]
async fn outside_nbf_and_exp_a_key_only_decrypts_verifies_and_unwraps() {
    let s = setup().await;
    s.create("rsa", new_key("RSA", None, None)).await.unwrap();
    let digest = [3u8; 32];
    let signature = s.sign("rsa", "PS256", &digest).await.unwrap().value;
    let none = SymmetricParams::default;
    let sealed = s
        .encrypt("rsa", "RSA-OAEP-256", b"p", none())
        .await
        .unwrap()
        .value;
    let wrapped = s.wrap("rsa", "RSA-OAEP", &[9; 16]).await.unwrap().value;
    for (attributes, why) in [
        (
            SecretAttributesIn {
                exp: Some(NOW),
                ..Default::default()
            },
            Refusal::Expired,
        ),
        (
            SecretAttributesIn {
                nbf: Some(NOW + 1),
                exp: Some(NOW + DAY),
                ..Default::default()
            },
            Refusal::NotYetValid,
        ),
    ] {
        let patch = KeyPatch {
            attributes: KeyAttributesIn {
                common: attributes,
                exportable: None,
            },
            ..KeyPatch::default()
        };
        s.update("rsa", patch).await;
        assert_refused(s.sign("rsa", "PS256", &digest).await, why);
        assert_refused(s.encrypt("rsa", "RSA-OAEP-256", b"p", none()).await, why);
        assert_refused(s.wrap("rsa", "RSA-OAEP", &[9; 16]).await, why);
        assert!(s
            .verify("rsa", "PS256", &digest, signature.expose())
            .await
            .unwrap());
        let opened = s
            .decrypt("rsa", "RSA-OAEP-256", sealed.expose(), none())
            .await
            .unwrap();
        assert_eq!(opened.value.expose(), b"p");
        let unwrapped = s.unwrap("rsa", "RSA-OAEP", wrapped.expose()).await.unwrap();
        assert_eq!(unwrapped.value.expose(), [9; 16]);
    }
    // Once nbf has come, the key signs again.
    s.clock.advance(1);
    s.sign("rsa", "PS256", &digest).await.unwrap();
}

#[tokio::test]
async fn a_disabled_key_does_nothing_but_is_still_listed() {
    let s = setup().await;
    s.create("k", new_key("RSA", None, None)).await.unwrap();
    let sealed = s
        .encrypt("k", "RSA-OAEP", b"x", SymmetricParams::default())
        .await
        .unwrap();
    let patch = KeyPatch {
        attributes: KeyAttributesIn {
            common: SecretAttributesIn {
                enabled: Some(false),
                ..Default::default()
            },
            exportable: None,
        },
        ..KeyPatch::default()
    };
    assert!(!s.update("k", patch).await.attributes.common.enabled);
    let none = SymmetricParams::default;
    let results = [
        s.sign("k", "RS256", &[0; 32]).await.map(|_| ()),
        s.verify("k", "RS256", &[0; 32], &[0; 256])
            .await
            .map(|_| ()),
        s.encrypt("k", "RSA-OAEP", b"x", none()).await.map(|_| ()),
        s.decrypt("k", "RSA-OAEP", sealed.value.expose(), none())
            .await
            .map(|_| ()),
        s.wrap("k", "RSA-OAEP", &[0; 16]).await.map(|_| ()),
        s.unwrap("k", "RSA-OAEP", sealed.value.expose())
            .await
            .map(|_| ()),
    ];
    for result in results {
        assert!(
            matches!(
                result,
                Err(EngineError::Disabled {
                    kind: ObjectKind::Key,
                    ..
                })
            ),
            "{result:?}"
        );
    }
    // A get is refused too; the listing still shows the key, disabled.
    let auth = s.proof(Operation::KeyGet, Some("k"));
    let got = get(&s.engine, &auth, &s.vault, &name("k"), None).await;
    assert!(matches!(
        got,
        Err(EngineError::Disabled {
            operation: "get",
            ..
        })
    ));
    let auth = s.proof(Operation::KeyList, None);
    let listed = list(&s.engine, &auth, &s.vault, Listing::Active, None, 25);
    assert!(!listed.await.unwrap().items[0].attributes.common.enabled);
}

#[tokio::test]
async fn digest_length_curve_and_algorithm_are_checked() {
    let s = setup().await;
    s.create("ec", new_key("EC", None, Some("P-256")))
        .await
        .unwrap();
    s.create("rsa", new_key("RSA", None, None)).await.unwrap();
    s.create("aes", new_key("oct", Some(256), None))
        .await
        .unwrap();
    assert_invalid(s.sign("ec", "ES256", &[0; 20]).await);
    assert_invalid(s.sign("rsa", "RS384", &[0; 32]).await);
    assert_invalid(s.verify("rsa", "PS512", &[0; 48], &[0; 256]).await);
    assert_invalid(s.sign("ec", "ES384", &[0; 48]).await);
    assert_invalid(s.sign("ec", "RS256", &[0; 32]).await);
    assert_invalid(s.sign("rsa", "ES256", &[0; 32]).await);
    assert_invalid(s.sign("rsa", "HS256", &[0; 32]).await);
    assert_invalid(s.sign("rsa", "none", &[0; 32]).await);
    assert_invalid(
        s.encrypt("rsa", "A256GCM", b"x", SymmetricParams::default())
            .await,
    );
    assert_invalid(s.wrap("aes", "RSA-OAEP", &[0; 16]).await);
    let message = match s.sign("ec", "ES256", &[0; 20]).await {
        Err(EngineError::Invalid(message)) => message,
        other => panic!("{other:?}"),
    };
    assert!(message.contains("32-byte digest"), "{message}");
}

#[tokio::test]
async fn creation_parameters_are_checked() {
    let s = setup().await;
    let refused = [
        NewKey {
            public_exponent: Some(3),
            ..new_key("RSA", None, None)
        },
        new_key("RSA", Some(1024), None),
        new_key("oct", Some(512), None),
        new_key("EC", None, Some("P-192")),
        new_key("RSA", None, Some("P-256")),
        new_key("DSA", None, None),
        NewKey {
            attributes: KeyAttributesIn {
                exportable: Some(true),
                ..Default::default()
            },
            ..new_key("RSA", None, None)
        },
        // A release policy that is not valid by Key Vault's grammar (`{}`).
        NewKey {
            attributes: KeyAttributesIn {
                exportable: Some(true),
                ..Default::default()
            },
            release_policy: Some(KeyReleasePolicy {
                data: Some("e30".into()),
                ..KeyReleasePolicy::default()
            }),
            ..new_key("RSA", None, None)
        },
    ];
    for new in refused {
        assert_invalid(s.create("k", new).await);
    }
    let exportable = NewKey {
        attributes: KeyAttributesIn {
            exportable: Some(true),
            ..Default::default()
        },
        release_policy: Some(KeyReleasePolicy {
            data: Some(crate::b64url(
                br#"{"version":"1.0.0","anyOf":[{"authority":"https://a.test","allOf":[{"claim":"c","equals":1}]}]}"#,
            )),
            immutable: Some(true),
            ..KeyReleasePolicy::default()
        }),
        public_exponent: Some(65537),
        ..new_key("RSA-HSM", None, None)
    };
    let view = s.create("k", exportable).await.unwrap();
    assert!(view.attributes.exportable);
    assert_eq!(view.key.kty, "RSA-HSM");
    assert_eq!(
        view.attributes.common.recovery_level,
        "Recoverable+Purgeable"
    );
    // An immutable release policy cannot be replaced.
    let auth = s.proof(Operation::KeyUpdate, Some("k"));
    let patch = KeyPatch {
        release_policy: Some(KeyReleasePolicy::default()),
        ..KeyPatch::default()
    };
    assert_invalid(update(&s.engine, &auth, &s.vault, &name("k"), None, patch).await);
    // A key without a release policy cannot become exportable.
    s.create("plain", new_key("EC", None, None)).await.unwrap();
    let auth = s.proof(Operation::KeyUpdate, Some("plain"));
    let patch = KeyPatch {
        attributes: KeyAttributesIn {
            exportable: Some(true),
            ..Default::default()
        },
        ..KeyPatch::default()
    };
    assert_invalid(update(&s.engine, &auth, &s.vault, &name("plain"), None, patch).await);
}

fn imported_ec(hsm: bool) -> ImportKey {
    let b64 = |h: &str| crate::b64url(&hex(h));
    ImportKey {
        key: PrivateJsonWebKey {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(b64(
                "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
            )),
            y: Some(b64(
                "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
            )),
            d: Some(SecretText::new(b64(
                "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
            ))),
            ..PrivateJsonWebKey::default()
        },
        hsm,
        attributes: KeyAttributesIn::default(),
        tags: None,
        release_policy: None,
    }
}

#[tokio::test]
async fn import_takes_a_private_jwk_and_checks_it() {
    let s = setup().await;
    let import_as = |key: &'static str, new: ImportKey| {
        let auth = s.proof(Operation::KeyImport, Some(key));
        let engine = s.engine.clone();
        let vault = s.vault.clone();
        async move { import(&engine, &auth, &vault, &name(key), new).await }
    };
    let view = import_as("ec", imported_ec(true)).await.unwrap();
    assert_eq!(view.key.kty, "EC-HSM");
    assert_eq!(view.key.key_ops, ["sign", "verify"]);
    let signature = s.sign("ec", "ES256", &[8; 32]).await.unwrap().value;
    assert!(s
        .verify("ec", "ES256", &[8; 32], signature.expose())
        .await
        .unwrap());
    let oct = ImportKey {
        key: PrivateJsonWebKey {
            kty: "oct".into(),
            key_ops: Some(vec!["wrapKey".into(), "unwrapKey".into()]),
            k: Some(SecretText::new(crate::b64url(&[7; 24]))),
            ..PrivateJsonWebKey::default()
        },
        ..imported_ec(false)
    };
    let view = import_as("aes", oct).await.unwrap();
    assert_eq!(view.attributes.key_size, Some(192));
    assert_eq!(view.key.key_ops, ["wrapKey", "unwrapKey"]);
    // Missing, malformed or inconsistent members are refused, and nothing is written.
    let mut no_d = imported_ec(false);
    no_d.key.d = None;
    let mut bad_x = imported_ec(false);
    bad_x.key.x = Some(crate::b64url(&[1; 32]));
    let mut not_b64 = imported_ec(false);
    not_b64.key.d = Some(SecretText::new("***".into()));
    let mut byok = imported_ec(false);
    byok.key.key_hsm = Some(SecretText::new("blob".into()));
    for new in [no_d, bad_x, not_b64, byok] {
        assert_invalid(import_as("bad", new).await);
    }
    let auth = s.proof(Operation::KeyGet, Some("bad"));
    assert!(matches!(
        get(&s.engine, &auth, &s.vault, &name("bad"), None).await,
        Err(EngineError::NotFound {
            kind: ObjectKind::Key,
            ..
        })
    ));
}

#[tokio::test]
async fn views_never_carry_a_private_member() {
    let s = setup().await;
    let mut views = vec![
        s.create("rsa", new_key("RSA", None, None)).await.unwrap(),
        s.create("ec", new_key("EC", None, Some("P-521")))
            .await
            .unwrap(),
        s.create("aes", new_key("oct", Some(128), None))
            .await
            .unwrap(),
    ];
    let auth = s.proof(Operation::KeyImport, Some("imported"));
    let key_name = name("imported");
    let imported = import(&s.engine, &auth, &s.vault, &key_name, imported_ec(false));
    views.push(imported.await.unwrap());
    let auth = s.proof(Operation::KeyList, None);
    let listed = list(&s.engine, &auth, &s.vault, Listing::Active, None, 25)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 4);
    views.extend(listed.items);
    let d = crate::b64url(&hex(
        "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
    ));
    for view in views {
        let json = serde_json::to_value(&view).unwrap();
        let key = json["key"].as_object().unwrap();
        for member in ["d", "p", "q", "dp", "dq", "qi", "k", "key_hsm"] {
            assert!(!key.contains_key(member), "{member} in {json}");
        }
        let text = format!("{json} {view:?}");
        assert!(!text.contains(&d));
        assert!(key.contains_key("kty") && key.contains_key("key_ops"));
    }
    // The import request itself does not show the private scalar either.
    assert!(!format!("{:?}", imported_ec(false)).contains(&d));
}

#[tokio::test]
async fn rotate_makes_a_new_version_like_the_current_one() {
    let s = setup().await;
    let new = NewKey {
        key_ops: Some(vec!["sign".into(), "verify".into()]),
        tags: Some(Tags::from([("team".to_owned(), "pay".to_owned())])),
        ..new_key("EC-HSM", None, Some("P-384"))
    };
    let first = s.create("k", new).await.unwrap();
    s.set_policy("k", r#"{"attributes":{"expiryTime":"P90D"}}"#)
        .await
        .unwrap();
    s.clock.advance(DAY);
    let second = s.rotate("k").await;
    assert_ne!(second.version, first.version);
    assert_ne!(second.key.x, first.key.x);
    assert_eq!(second.key.kty, "EC-HSM");
    assert_eq!(second.key.crv.as_deref(), Some("P-384"));
    assert_eq!(second.key.key_ops, ["sign", "verify"]);
    assert_eq!(second.tags, first.tags);
    assert_eq!(second.attributes.common.exp, Some(NOW + DAY + 90 * DAY));
    assert_eq!(s.versions("k").await.len(), 2);
    // The new version signs; the old one still verifies what it signed.
    let old = VersionId::parse(&first.version).unwrap();
    let by_old = s.sign_at("k", Some(&old), "ES384", &[1; 48]).await.unwrap();
    assert_eq!(by_old.version, first.version);
    let signed = s.sign("k", "ES384", &[1; 48]).await.unwrap();
    assert_eq!(signed.version, second.version);
    let verified = s.verify_at("k", Some(&old), "ES384", &[1; 48], by_old.value.expose());
    assert!(verified.await.unwrap());
    // RSA and oct keys keep their size.
    s.create("rsa", new_key("RSA", Some(3072), None))
        .await
        .unwrap();
    let rotated = s.rotate("rsa").await;
    assert_eq!(
        crate::b64url_decode(rotated.key.n.as_deref().unwrap())
            .unwrap()
            .len(),
        384
    );
    s.create("aes", new_key("oct", Some(192), None))
        .await
        .unwrap();
    assert_eq!(s.rotate("aes").await.attributes.key_size, Some(192));
}

#[tokio::test]
async fn rotation_policies_follow_key_vaults_rules() {
    let s = setup().await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    let auth = s.proof(Operation::KeyRotationPolicyGet, Some("k"));
    let default = rotation_policy(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    let actions = default.lifetime_actions.unwrap();
    assert_eq!(actions[0].action.kind, "Notify");
    assert_eq!(
        actions[0].trigger.time_before_expiry.as_deref(),
        Some("P30D")
    );
    let refused = [
        r#"{"attributes":{"expiryTime":"P27D"}}"#,
        r#"{"attributes":{"expiryTime":"90 days"}}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P6D"},"action":{"type":"Rotate"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeBeforeExpiry":"P6D"},"action":{"type":"Rotate"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"Notify"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{},"action":{"type":"Rotate"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D","timeBeforeExpiry":"P30D"},"action":{"type":"Rotate"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"Rotate"}},{"trigger":{"timeAfterCreate":"P40D"},"action":{"type":"rotate"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"Explode"}}]}"#,
        r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P85D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P90D"}}"#,
    ];
    for json in refused {
        assert_invalid(s.set_policy("k", json).await);
    }
    let stored = s
        .set_policy(
            "k",
            r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"rotate"}},{"trigger":{"timeBeforeExpiry":"P10D"},"action":{"type":"NOTIFY"}}],"attributes":{"expiryTime":"P3M","created":1}}"#,
        )
        .await
        .unwrap();
    let attributes = stored.attributes.clone().unwrap();
    assert_eq!(
        (attributes.created, attributes.updated),
        (Some(NOW), Some(NOW))
    );
    let kinds: Vec<_> = stored
        .lifetime_actions
        .clone()
        .unwrap()
        .into_iter()
        .map(|a| a.action.kind)
        .collect();
    assert_eq!(kinds, ["Rotate", "Notify"]);
    s.clock.advance(DAY);
    let again = s
        .set_policy("k", r#"{"attributes":{"expiryTime":"P1Y"}}"#)
        .await
        .unwrap();
    let attributes = again.attributes.unwrap();
    assert_eq!(
        (attributes.created, attributes.updated),
        (Some(NOW), Some(NOW + DAY))
    );
    let read = rotation_policy(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    assert_eq!(read.attributes.unwrap().expiry_time.as_deref(), Some("P1Y"));
    // A key that does not exist has no policy to read or write.
    assert!(matches!(
        s.set_policy("missing", r#"{"attributes":{"expiryTime":"P30D"}}"#)
            .await,
        Err(EngineError::NotFound {
            kind: ObjectKind::Key,
            ..
        })
    ));
}

#[test]
fn durations_read_as_iso_8601() {
    use super::policy::duration_seconds;
    assert_eq!(duration_seconds("P28D"), Some(28 * DAY));
    assert_eq!(duration_seconds("P1Y2M"), Some(425 * DAY));
    assert_eq!(duration_seconds("P2W"), Some(14 * DAY));
    assert_eq!(duration_seconds("P1DT12H"), Some(DAY + DAY / 2));
    assert_eq!(duration_seconds("PT90M"), Some(5400));
    for bad in [
        "", "P", "PT", "P0D", "30D", "P1D2Y", "P1DD", "P-1D", "P1.5D", "P1H", "PT1D",
    ] {
        assert_eq!(duration_seconds(bad), None, "{bad}");
    }
}

#[tokio::test]
async fn backup_and_restore_bring_back_every_version() {
    let s = setup().await;
    let first = s.create("k", new_key("RSA", None, None)).await.unwrap();
    let signature = s.sign("k", "RS256", &[4; 32]).await.unwrap().value;
    let second = s.rotate("k").await;
    let auth = s.proof(Operation::KeyBackup, Some("k"));
    let blob = backup(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    let auth = s.proof(Operation::KeyDelete, Some("k"));
    delete(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    let auth = s.proof(Operation::KeyPurge, Some("k"));
    purge(&s.engine, &auth, &s.vault, &name("k")).await.unwrap();
    let auth = s.proof(Operation::KeyRestore, None);
    let restored = restore(&s.engine, &auth, &s.vault, &blob).await.unwrap();
    assert_eq!(restored.version, second.version);
    assert_eq!(restored.key, second.key);
    let mut versions: Vec<_> = s
        .versions("k")
        .await
        .into_iter()
        .map(|v| v.version)
        .collect();
    versions.sort();
    let mut expected = vec![first.version.clone(), second.version.clone()];
    expected.sort();
    assert_eq!(versions, expected);
    let old = VersionId::parse(&first.version).unwrap();
    let verified = s.verify_at("k", Some(&old), "RS256", &[4; 32], signature.expose());
    assert!(verified.await.unwrap());
    // Restoring onto a used name, or a blob altered by one character, is refused.
    assert!(matches!(
        restore(&s.engine, &auth, &s.vault, &blob).await,
        Err(EngineError::Conflict { .. })
    ));
    let mut altered = blob.into_bytes();
    altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_invalid(restore(&s.engine, &auth, &s.vault, &altered).await);
}

#[tokio::test]
async fn random_bytes_come_in_counts_of_1_to_128() {
    let s = setup().await;
    let auth = s.proof(Operation::KeyRandomBytes, None);
    assert_eq!(random_bytes(&auth, &s.vault, 128).unwrap().len(), 128);
    assert_eq!(random_bytes(&auth, &s.vault, 1).unwrap().len(), 1);
    for count in [0, 129, -1] {
        assert_invalid(random_bytes(&auth, &s.vault, count));
    }
}

#[tokio::test]
async fn a_proof_for_another_operation_or_key_uses_nothing() {
    let s = setup().await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    let key = name("k");
    let at = KeyRef {
        vault: &s.vault,
        name: &key,
        version: None,
    };
    let for_verify = s.proof(Operation::KeyVerify, Some("k"));
    let signed = sign(&s.engine, &for_verify, at, "ES256", &[0; 32]).await;
    assert!(matches!(signed, Err(EngineError::Internal)));
    let for_other = s.proof(Operation::KeySign, Some("other"));
    let signed = sign(&s.engine, &for_other, at, "ES256", &[0; 32]).await;
    assert!(matches!(signed, Err(EngineError::Internal)));
    let for_vault = s.proof(Operation::KeyList, None);
    assert!(matches!(
        random_bytes(&for_vault, &s.vault, 8),
        Err(EngineError::Internal)
    ));
}
