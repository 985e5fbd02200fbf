//! The engine on a real (embedded) store: every operation demands a proof for itself and for the
//! object it acts on; errors name the kind of object, not an HTTP status; and the crate stays
//! below HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use arca_core::authz::{decide, roles, AssignmentDoc, Scope, Snapshot, ADMINISTRATOR_ROLE_ID};
use arca_core::{FixedClock, ObjectKind, ObjectName, Operation};
use arca_crypto::{Keyring, SecretString};
use arca_engine::secrets::{self, NewSecret};
use arca_engine::{Authorized, Engine, EngineError};
use arca_store::{Store, VaultRecord};

const NOW: i64 = 1_800_000_000;

struct Setup {
    _dir: tempfile::TempDir,
    engine: Engine,
    vault: VaultRecord,
    snapshot: Snapshot,
}

async fn setup(purge_protection: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(arca_store_sqlite::SqliteStore::open(&dir.path().join("arca.db")).unwrap());
    let vault = VaultRecord {
        name: "prod".into(),
        retention_days: 7,
        purge_protection,
        created: NOW,
    };
    store.create_vault(&vault).await.unwrap();
    let engine = Engine::new(
        store,
        Arc::new(Keyring::generate().unwrap()),
        Arc::new(FixedClock::new(NOW)),
    );
    let mut snapshot = Snapshot::default();
    for role in roles::builtin_roles() {
        snapshot.roles.insert(role.id.clone(), role);
    }
    snapshot.assignments.insert(
        "admin".into(),
        vec![AssignmentDoc {
            id: "a1".into(),
            role_id: ADMINISTRATOR_ROLE_ID.into(),
            principal_client_id: "admin-app".into(),
            principal_object_id: "admin".into(),
            scope: "/".into(),
            created: NOW,
        }],
    );
    Setup {
        _dir: dir,
        engine,
        vault,
        snapshot,
    }
}

impl Setup {
    /// The administrator's proof for `operation` on the secret `name` (or on the vault).
    fn proof(&self, operation: Operation, name: Option<&str>) -> Authorized {
        let resource = match name {
            Some(n) => Scope::object(&self.vault.name, "secrets", n),
            None => Scope::vault(&self.vault.name),
        };
        let decision = decide(&self.snapshot, "admin", operation.data_action(), &resource);
        Authorized::new(operation, &decision).unwrap()
    }

    /// The administrator's proof for `operation` on the secret `raw`, and its name.
    fn on(&self, operation: Operation, raw: &str) -> (Authorized, ObjectName) {
        (self.proof(operation, Some(raw)), name(raw))
    }

    async fn set(&self, name: &str, value: &str) -> Result<secrets::SecretView, EngineError> {
        secrets::set(
            &self.engine,
            &self.proof(Operation::SecretSet, Some(name)),
            &self.vault,
            &ObjectName::parse(name).unwrap(),
            new_secret(value),
        )
        .await
    }
}

fn new_secret(value: &str) -> NewSecret {
    NewSecret {
        value: SecretString::new(value.to_owned()),
        content_type: None,
        tags: None,
        enabled: true,
        nbf: None,
        exp: None,
    }
}

fn name(raw: &str) -> ObjectName {
    ObjectName::parse(raw).unwrap()
}

#[tokio::test]
async fn a_proof_for_another_object_or_operation_opens_nothing_and_changes_nothing() {
    let s = setup(false).await;
    s.set("db", "one").await.unwrap();
    // A proof to set `db` cannot set `other`.
    let for_db = s.proof(Operation::SecretSet, Some("db"));
    let wrong_object = secrets::set(
        &s.engine,
        &for_db,
        &s.vault,
        &name("other"),
        new_secret("x"),
    )
    .await;
    assert!(matches!(wrong_object, Err(EngineError::Internal)));
    // A proof to set `db` cannot read it, nor delete it.
    let read = secrets::get(&s.engine, &for_db, &s.vault, &name("db"), None).await;
    assert!(matches!(read, Err(EngineError::Internal)));
    let delete = secrets::delete(&s.engine, &for_db, &s.vault, &name("db")).await;
    assert!(matches!(delete, Err(EngineError::Internal)));
    // A proof about the vault does not act on one of its objects.
    let vault_proof = s.proof(Operation::SecretList, None);
    let read = secrets::get(&s.engine, &vault_proof, &s.vault, &name("db"), None).await;
    assert!(matches!(read, Err(EngineError::Internal)));
    // Nothing changed: `other` does not exist and `db` still holds its value.
    let get = |n: &'static str| {
        let proof = s.proof(Operation::SecretGet, Some(n));
        let engine = s.engine.clone();
        let vault = s.vault.clone();
        async move { secrets::get(&engine, &proof, &vault, &name(n), None).await }
    };
    assert!(matches!(
        get("other").await,
        Err(EngineError::NotFound {
            kind: ObjectKind::Secret,
            ..
        })
    ));
    assert_eq!(get("db").await.unwrap().value.unwrap().expose(), "one");
}

#[test]
fn a_refusal_makes_no_proof() {
    let snapshot = Snapshot::default();
    let resource = Scope::object("prod", "secrets", "db");
    let decision = decide(
        &snapshot,
        "nobody",
        Operation::SecretGet.data_action(),
        &resource,
    );
    assert!(!decision.allowed);
    assert!(Authorized::new(Operation::SecretGet, &decision).is_none());
}

#[tokio::test]
async fn lifecycle_errors_name_the_kind_and_the_rule() {
    let s = setup(true).await;
    s.set("db", "one").await.unwrap();
    let (proof, db) = s.on(Operation::SecretDelete, "db");
    let deleted = secrets::delete(&s.engine, &proof, &s.vault, &db)
        .await
        .unwrap();
    assert!(deleted.deleted.is_some() && deleted.value.is_none());
    // The name cannot be reused while deleted.
    assert!(matches!(
        s.set("db", "two").await,
        Err(EngineError::Deleted {
            kind: ObjectKind::Secret,
            ..
        })
    ));
    // Purge protection holds until the scheduled purge date.
    let (proof, db) = s.on(Operation::SecretPurge, "db");
    let purge = secrets::purge(&s.engine, &proof, &s.vault, &db).await;
    assert!(matches!(
        purge,
        Err(EngineError::PurgeProtected {
            kind: ObjectKind::Secret
        })
    ));
    // Recover of a name that is not deleted.
    let (proof, never) = s.on(Operation::SecretRecover, "never");
    let recover = secrets::recover(&s.engine, &proof, &s.vault, &never).await;
    assert!(matches!(
        recover,
        Err(EngineError::DeletedNotFound {
            kind: ObjectKind::Secret,
            ..
        })
    ));
}

#[tokio::test]
async fn a_backup_restores_only_as_a_whole_and_only_onto_a_free_name() {
    let s = setup(false).await;
    s.set("db", "one").await.unwrap();
    s.set("db", "two").await.unwrap();
    let (proof, db) = s.on(Operation::SecretBackup, "db");
    let blob = secrets::backup(&s.engine, &proof, &s.vault, &db)
        .await
        .unwrap();
    let restore_proof = s.proof(Operation::SecretRestore, None);
    let onto_existing = secrets::restore(&s.engine, &restore_proof, &s.vault, &blob).await;
    assert!(matches!(onto_existing, Err(EngineError::Conflict { .. })));
    // A blob altered anywhere is refused with one message that says nothing of why.
    let mut altered = blob.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    match secrets::restore(&s.engine, &restore_proof, &s.vault, &altered).await {
        Err(EngineError::Invalid(message)) => {
            assert_eq!(message, arca_engine::objects::INVALID_BACKUP)
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The engine is called by background jobs with no request in sight: nothing HTTP may be in its
/// dependency tree (read from the workspace's Cargo.lock, so the check covers every path).
#[test]
fn the_engine_depends_on_nothing_http() {
    let lock: toml::Table = toml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap(),
    )
    .unwrap();
    let packages = lock["package"].as_array().unwrap();
    let deps_of = |name: &str| -> Vec<String> {
        packages
            .iter()
            .filter(|p| p["name"].as_str() == Some(name))
            .flat_map(|p| {
                p.get("dependencies")
                    .and_then(|d| d.as_array())
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|d| {
                // "name" or "name version" when several versions are locked.
                d.as_str().unwrap().split(' ').next().unwrap().to_owned()
            })
            .collect()
    };
    let mut seen = HashSet::new();
    let mut stack = vec!["arca-engine".to_owned()];
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone()) {
            stack.extend(deps_of(&name));
        }
    }
    assert!(
        seen.contains("arca-store"),
        "the walk found the engine's dependencies"
    );
    for forbidden in [
        "axum",
        "hyper",
        "http",
        "http-body",
        "hyper-util",
        "tower",
        "arca-server",
    ] {
        assert!(
            !seen.contains(forbidden),
            "arca-engine depends on {forbidden}"
        );
    }
}
