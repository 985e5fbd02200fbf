//! The parsed-key cache inside the engine: a key is parsed once per version, every rule of use is
//! still checked against the record, and delete, purge and restore drop the name's parsed keys,
//! so a purged and re-created name never signs with the old key.

use super::*;

/// A patch that sets `enabled` and, if given, `key_ops`.
fn enabled_patch(enabled: bool, key_ops: Option<Vec<String>>) -> KeyPatch {
    KeyPatch {
        key_ops,
        attributes: KeyAttributesIn {
            common: SecretAttributesIn {
                enabled: Some(enabled),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

fn cached(s: &Setup) -> usize {
    s.engine.key_cache().len()
}

impl Setup {
    async fn delete_and_purge(&self, key: &str) {
        let auth = self.proof(Operation::KeyDelete, Some(key));
        delete(&self.engine, &auth, &self.vault, &name(key))
            .await
            .unwrap();
        assert_eq!(cached(self), 0, "delete drops the parsed key");
        let auth = self.proof(Operation::KeyPurge, Some(key));
        purge(&self.engine, &auth, &self.vault, &name(key))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_key_is_parsed_once_and_its_rules_are_still_checked_every_time() {
    let s = setup().await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    assert_eq!(cached(&s), 0);
    s.sign("k", "ES256", &[1; 32]).await.unwrap();
    s.sign("K", "ES256", &[2; 32]).await.unwrap();
    assert_eq!(
        cached(&s),
        1,
        "one version, one parsed key, whatever the name's case"
    );
    s.update("k", enabled_patch(false, None)).await;
    assert!(matches!(
        s.sign("k", "ES256", &[1; 32]).await,
        Err(EngineError::Disabled { .. })
    ));
    s.update("k", enabled_patch(true, Some(vec!["verify".into()])))
        .await;
    assert!(matches!(
        s.sign("k", "ES256", &[1; 32]).await,
        Err(EngineError::NotPermitted { .. })
    ));
}

#[tokio::test]
async fn a_purged_and_recreated_name_signs_with_its_new_key() {
    let s = setup().await;
    let old = s.create("k", new_key("EC", None, None)).await.unwrap();
    s.sign("k", "ES256", &[1; 32]).await.unwrap();
    assert_eq!(cached(&s), 1);
    s.delete_and_purge("k").await;
    let new = s.create("k", new_key("EC", None, None)).await.unwrap();
    assert_ne!(old.key.x, new.key.x);
    let signature = s.sign("k", "ES256", &[1; 32]).await.unwrap();
    assert_eq!(signature.version, new.version);
    assert!(s
        .verify("k", "ES256", &[1; 32], signature.value.expose())
        .await
        .unwrap());
}

#[tokio::test]
async fn purge_and_restore_drop_parsed_keys() {
    let s = setup().await;
    s.create("k", new_key("oct", Some(256), None))
        .await
        .unwrap();
    let auth = s.proof(Operation::KeyBackup, Some("k"));
    let blob = backup(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    s.delete_and_purge("k").await;
    let auth = s.proof(Operation::KeyRestore, None);
    restore(&s.engine, &auth, &s.vault, &blob).await.unwrap();
    let key = name("k");
    let (auth, at) = s.use_key(Operation::KeyWrap, &key, None);
    let data_key = SecretBytes::new(vec![7; 32]);
    let wrapped = wrap_key(&s.engine, &auth, at, "A256KW", &data_key);
    wrapped.await.unwrap();
    assert_eq!(cached(&s), 1);
    // Purging a deleted key whose parsed key came back into the cache (an operation that read
    // the record before the delete) drops it again.
    let stale = |version: &str| {
        let record = arca_store::VersionRecord {
            version: version.into(),
            created: NOW,
            updated: NOW,
            enabled: true,
            nbf: None,
            exp: None,
            meta: vec![1; 16],
            value: vec![2; 16],
        };
        let key = arca_crypto::keys::PrivateKey::generate_oct(256).unwrap();
        s.engine.key_cache().insert(
            &s.vault.name,
            "k",
            &record,
            KeyUse::permitted(&["wrapKey".into()]),
            Arc::new(key),
        );
    };
    stale("any");
    let auth = s.proof(Operation::KeyDelete, Some("k"));
    delete(&s.engine, &auth, &s.vault, &name("k"))
        .await
        .unwrap();
    stale("late");
    let auth = s.proof(Operation::KeyPurge, Some("k"));
    purge(&s.engine, &auth, &s.vault, &name("k")).await.unwrap();
    assert_eq!(cached(&s), 0);
}
