//! The one-time upgrade to authenticated records: a data directory made the old way (plain
//! principal and policy JSON, version metadata sealed without the attributes, no heads, a keyring
//! without flags) is upgraded at start with its data intact, and afterwards plaintext written into
//! the database is refused for good, whatever markers or pragmas are tampered with; a keyring
//! record put back from before the upgrade stops the server instead of re-running it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;

use arca_core::{FixedClock, ObjectKind, ObjectName, VersionId};
use arca_crypto::{record_aad, Keyring, RootKey};
use arca_server::access::{kinds, AssignmentDoc, ADMINISTRATOR_ROLE_ID};
use arca_server::config::{Config, Settings};
use arca_server::engine::{secrets, Authorized};
use arca_server::identity::principal::PrincipalData;
use arca_server::integrity::{FLAG_RECORDS_AUTHENTICATED, FLAG_UPGRADE_STARTED};
use arca_store::prelude::*;
use arca_store::{Deletion, PolicyRecord, PrincipalRecord, VaultRecord, VersionRecord};
use arca_store_sqlite::SqliteStore;

const NOW: i64 = 1_800_000_000;

fn vid(n: u64) -> String {
    format!("{n:032x}")
}

struct OldDir {
    _dir: tempfile::TempDir,
    config: Config,
    db: PathBuf,
    root: RootKey,
    /// The keyring record as the old build stored it (no flags).
    old_keyring: Vec<u8>,
}

impl OldDir {
    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.db).unwrap()
    }

    async fn start(&self) -> anyhow::Result<Arc<arca_server::state::AppState>> {
        let store: Arc<dyn Store> = Arc::new(self.store());
        let clock = Arc::new(FixedClock::new(NOW));
        Ok(
            arca_server::bootstrap::prepare(&self.config, 8443, store, clock)
                .await?
                .state,
        )
    }

    async fn keyring_flags(&self) -> u32 {
        let store = self.store();
        let sealed = store.meta("keyring").await.unwrap().unwrap();
        store.close().await.unwrap();
        Keyring::open_with(&self.root, &sealed).unwrap().flags()
    }
}

fn plain_principal(client_id: &str, object_id: &str, secret: &str) -> PrincipalRecord {
    let data = common::principal_data(client_id, secret, NOW);
    PrincipalRecord {
        client_id: client_id.into(),
        object_id: object_id.into(),
        created: NOW,
        data: data.encode(),
    }
}

fn plain_admin_assignment(id: &str, client_id: &str, object_id: &str) -> PolicyRecord {
    let doc = AssignmentDoc {
        id: id.into(),
        role_id: ADMINISTRATOR_ROLE_ID.into(),
        principal_client_id: client_id.into(),
        principal_object_id: object_id.into(),
        scope: "/".into(),
        created: NOW,
    };
    PolicyRecord {
        kind: kinds::ASSIGNMENT.into(),
        id: id.into(),
        data: serde_json::to_vec(&doc).unwrap(),
    }
}

/// A version sealed the old way: metadata under the field `meta`, attributes unbound.
fn old_version(keyring: &Keyring, name: &str, n: u64, value: &str, enabled: bool) -> VersionRecord {
    let version = vid(n);
    let aad = |field: &str| record_aad("default", "secret", name, &version, field);
    VersionRecord {
        created: NOW + n as i64,
        updated: NOW + n as i64,
        enabled,
        nbf: None,
        exp: Some(NOW + 1_000_000),
        meta: keyring
            .seal(&aad("meta"), br#"{"contentType":"text/plain"}"#)
            .unwrap(),
        value: keyring.seal(&aad("value"), value.as_bytes()).unwrap(),
        version,
    }
}

/// What a build before authenticated records left: the bootstrap administrator `old-admin`
/// (plain principal and assignment, the old marker), plain network rules for `default`, the
/// secret `db` with two versions (the newer current), and the deleted secret `gone`.
async fn old_data_dir() -> OldDir {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    let key_file = dir.path().join("arca.key");
    let settings = Settings {
        data_dir: Some(data_dir.display().to_string()),
        key_file: Some(key_file.display().to_string()),
        ..Settings::default()
    };
    let config = Config::resolve(None, &settings, &Settings::default()).unwrap();
    let db = data_dir.join("arca.db");
    let store = SqliteStore::open(&db).unwrap();
    let (kek, _) = arca_crypto::load_or_create_key_file(&key_file).unwrap();
    let root = RootKey::generate().unwrap();
    store
        .put_meta("root_key", &kek.seal_root_key(&root).unwrap())
        .await
        .unwrap();
    let keyring = Keyring::generate().unwrap();
    let old_keyring = keyring.seal_with(&root).unwrap();
    store.put_meta("keyring", &old_keyring).await.unwrap();
    store
        .create_vault(&VaultRecord {
            name: "default".into(),
            retention_days: 90,
            purge_protection: false,
            created: NOW,
        })
        .await
        .unwrap();
    store
        .create_principal(&plain_principal("old-admin", "old-admin-oid", "old-secret"))
        .await
        .unwrap();
    store
        .put_meta("bootstrap_client_id", b"old-admin")
        .await
        .unwrap();
    store
        .create_policy(&plain_admin_assignment(
            "00000000-0000-4000-8000-000000000001",
            "old-admin",
            "old-admin-oid",
        ))
        .await
        .unwrap();
    store
        .put_meta("bootstrap_administrator_assigned", b"1")
        .await
        .unwrap();
    store
        .put_policy(&PolicyRecord {
            kind: kinds::NETWORK.into(),
            id: "default".into(),
            data: br#"{"default_action":"Deny","ip_rules":["10.0.0.0/8"]}"#.to_vec(),
        })
        .await
        .unwrap();
    let secret = |name| arca_store::ObjectAddress::new("default", ObjectKind::Secret, name);
    for (n, value) in [(1, "one"), (2, "two")] {
        let v = old_version(&keyring, "db", n, value, true);
        store.put_version(&secret("Db"), &v, b"").await.unwrap();
    }
    let gone = old_version(&keyring, "gone", 3, "three", false);
    store
        .put_version(&secret("gone"), &gone, b"")
        .await
        .unwrap();
    store
        .delete_object(
            &secret("gone"),
            Deletion {
                deleted_at: NOW,
                scheduled_purge: NOW + 90 * 86_400,
            },
        )
        .await
        .unwrap();
    store.close().await.unwrap();
    OldDir {
        _dir: dir,
        config,
        db,
        root,
        old_keyring,
    }
}

/// The old administrator's proof of authorization for `operation` on the secret `name`.
fn proof(
    state: &arca_server::state::AppState,
    operation: arca_core::Operation,
    name: &str,
) -> Authorized {
    let snapshot = state.access.snapshot();
    let resource = arca_server::access::Scope::object("default", "secrets", name);
    let decision = arca_server::access::decide(
        &snapshot,
        "old-admin-oid",
        operation.data_action(),
        &resource,
    );
    Authorized::new(operation, &decision).unwrap()
}

async fn read(state: &arca_server::state::AppState, name: &str, version: Option<u64>) -> String {
    let vault = state.store.vault("default").await.unwrap().unwrap();
    let version = version.map(|n| VersionId::parse(&vid(n)).unwrap());
    let view = secrets::get(
        &state.engine,
        &proof(state, arca_core::Operation::SecretGet, name),
        &vault,
        &ObjectName::parse(name).unwrap(),
        version.as_ref(),
    )
    .await
    .unwrap();
    assert_eq!(view.content_type.as_deref(), Some("text/plain"));
    view.value.unwrap().expose().to_owned()
}

/// Checks that everything `old_data_dir` wrote is served as before.
async fn assert_old_data_intact(state: &arca_server::state::AppState) {
    let snapshot = state.access.snapshot();
    assert!(snapshot.principals.contains_key("old-admin-oid"));
    let admins: Vec<&str> = snapshot
        .root_administrators()
        .iter()
        .map(|a| a.principal_object_id.as_str())
        .collect();
    assert_eq!(admins, ["old-admin-oid"]);
    assert!(!snapshot.admits("default", Some("192.0.2.1".parse().unwrap())));
    assert!(snapshot.admits("default", Some("10.1.2.3".parse().unwrap())));
    let principal = state.store.principal("old-admin").await.unwrap().unwrap();
    let data = PrincipalData::open(&state.keyring, &principal).unwrap();
    assert!(arca_crypto::verify_client_secret(
        &data.secrets[0].hash,
        b"old-secret"
    ));
    assert_eq!(read(state, "db", None).await, "two");
    assert_eq!(read(state, "db", Some(1)).await, "one");
    let vault = state.store.vault("default").await.unwrap().unwrap();
    let gone = secrets::get_deleted(
        &state.engine,
        &proof(state, arca_core::Operation::SecretGetDeleted, "gone"),
        &vault,
        &ObjectName::parse("gone").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        (gone.version.as_str(), gone.enabled),
        (vid(3).as_str(), false)
    );
}

#[tokio::test]
async fn an_old_data_directory_is_upgraded_and_plaintext_is_refused_afterwards() {
    let old = old_data_dir().await;
    let state = old.start().await.unwrap();
    assert_old_data_intact(&state).await;
    drop(state);
    assert_ne!(old.keyring_flags().await & FLAG_RECORDS_AUTHENTICATED, 0);
    // A second start finds nothing to do and serves the same.
    let state = old.start().await.unwrap();
    assert_old_data_intact(&state).await;
    drop(state);

    // Now someone without the key file writes plaintext and removes the old marker, as the old
    // build would have accepted (and the upgrade would have sealed) it.
    let store = old.store();
    store
        .create_principal(&plain_principal("evil", "evil-oid", "evil-secret"))
        .await
        .unwrap();
    store
        .create_policy(&plain_admin_assignment("evil", "evil", "evil-oid"))
        .await
        .unwrap();
    store
        .put_policy(&plain_admin_assignment(
            "00000000-0000-4000-8000-000000000001",
            "evil",
            "evil-oid",
        ))
        .await
        .unwrap();
    store.close().await.unwrap();
    let conn = rusqlite::Connection::open(&old.db).unwrap();
    conn.execute(
        "DELETE FROM meta WHERE key = 'bootstrap_administrator_assigned'",
        [],
    )
    .unwrap();
    // Resetting the schema version does not re-run anything; the file no longer opens.
    let current = i64::from(arca_store_sqlite::SCHEMA_VERSION);
    conn.pragma_update(None, "user_version", current - 1)
        .unwrap();
    assert!(SqliteStore::open(&old.db).is_err());
    conn.pragma_update(None, "user_version", current).unwrap();
    drop(conn);

    let state = old.start().await.unwrap();
    let snapshot = state.access.snapshot();
    assert!(!snapshot.principals.contains_key("evil-oid"));
    assert!(
        snapshot.root_administrators().is_empty(),
        "the bootstrap assignment was overwritten with plaintext, so it is refused"
    );
    assert!(!snapshot.assignments.contains_key("evil-oid"));
    drop(state);

    // The keyring record from before the upgrade, put back, does not re-run the upgrade (which
    // would seal the plaintext above as genuine): the server refuses to start.
    let store = old.store();
    store.put_meta("keyring", &old.old_keyring).await.unwrap();
    store.close().await.unwrap();
    let refused = old
        .start()
        .await
        .err()
        .expect("started with an old keyring");
    assert!(refused.to_string().contains("keyring"), "{refused:#}");
    let store = old.store();
    let evil = store
        .policy(kinds::ASSIGNMENT, "evil")
        .await
        .unwrap()
        .unwrap();
    assert!(evil.data.starts_with(b"{"), "the plaintext was not sealed");
    store.close().await.unwrap();
}

#[tokio::test]
async fn an_interrupted_upgrade_resumes_but_an_unflagged_keyring_with_sealed_records_is_refused() {
    let old = old_data_dir().await;
    // As if an upgrade had sealed the principal and then crashed, before any flag was written.
    let store = old.store();
    let keyring = Keyring::open_with(&old.root, &old.old_keyring).unwrap();
    let mut principal = store.principal("old-admin").await.unwrap().unwrap();
    principal.data = arca_server::integrity::seal_principal(
        &keyring,
        &principal.client_id,
        &principal.object_id,
        principal.created,
        &principal.data,
    )
    .unwrap();
    store.update_principal(&principal).await.unwrap();
    store.close().await.unwrap();
    // Without the "started" flag this is what a keyring rolled back to before the upgrade looks
    // like: refused.
    assert!(old.start().await.is_err());
    assert_eq!(old.keyring_flags().await, 0);

    let store = old.store();
    let mut flagged = Keyring::open_with(&old.root, &old.old_keyring).unwrap();
    flagged.set_flags(FLAG_UPGRADE_STARTED);
    store
        .put_meta("keyring", &flagged.seal_with(&old.root).unwrap())
        .await
        .unwrap();
    store.close().await.unwrap();
    let state = old.start().await.unwrap();
    assert_old_data_intact(&state).await;
    drop(state);
    assert_ne!(old.keyring_flags().await & FLAG_RECORDS_AUTHENTICATED, 0);
}
