//! Durability and file-level behaviour of `SqliteStore`: acknowledged writes survive closing and
//! reopening (and a copy of the files taken without a clean close), the schema version is
//! recorded in the file, group commit loses nothing, and bad files are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_store::prelude::*;
use arca_store_tests::conformance::{head, head_id};
use std::path::Path;
use std::sync::Arc;

use arca_store::{
    Deletion, Listing, ObjectKind, PolicyRecord, PrincipalRecord, Store, StoreError, VaultRecord,
    VersionRecord,
};
use arca_store_sqlite::{SqliteStore, SCHEMA_VERSION};

const T0: i64 = 1_700_000_000;

fn vid(n: u64) -> String {
    format!("{n:032x}")
}

fn version(n: u64) -> VersionRecord {
    VersionRecord {
        version: vid(n),
        created: T0 + n as i64,
        updated: T0 + n as i64,
        enabled: n % 2 == 0,
        nbf: Some(T0),
        exp: None,
        meta: format!("meta-{n}").into_bytes(),
        value: vec![n as u8; 100 + n as usize],
    }
}

fn vault(name: &str) -> VaultRecord {
    VaultRecord {
        name: name.to_owned(),
        retention_days: 30,
        purge_protection: true,
        created: T0,
    }
}

fn principal() -> PrincipalRecord {
    PrincipalRecord {
        client_id: "client".into(),
        object_id: "object".into(),
        created: T0,
        data: b"hashes".to_vec(),
    }
}

fn policy(id: &str, data: &[u8]) -> PolicyRecord {
    PolicyRecord {
        kind: "assignment".into(),
        id: id.to_owned(),
        data: data.to_vec(),
    }
}

const SECRET: ObjectKind = ObjectKind::Secret;

/// The object `name` of `kind` in the vault `alpha`.
fn alpha(kind: ObjectKind, name: &str) -> arca_store::ObjectAddress {
    arca_store::ObjectAddress::new("alpha", kind, name)
}

/// Writes a bit of everything.
async fn populate(store: &SqliteStore) {
    store.put_meta("root", b"sealed root").await.unwrap();
    store.create_vault(&vault("alpha")).await.unwrap();
    store.create_principal(&principal()).await.unwrap();
    store.create_policy(&policy("a1", b"first")).await.unwrap();
    store.put_policy(&policy("a1", b"second")).await.unwrap();
    store.put_policy(&policy("a2", b"other")).await.unwrap();
    store.delete_policy("assignment", "a2").await.unwrap();
    for n in 1..=3 {
        store
            .put_version(
                &alpha(SECRET, "Db-Password"),
                &version(n),
                &head(&version(n)),
            )
            .await
            .unwrap();
    }
    let mut updated = version(2);
    updated.value = b"rotated".to_vec();
    updated.created = 0;
    store
        .update_version(&alpha(SECRET, "db-password"), &updated)
        .await
        .unwrap();
    store
        .put_version(
            &alpha(ObjectKind::Key, "Gone"),
            &version(9),
            &head(&version(9)),
        )
        .await
        .unwrap();
    store
        .delete_object(
            &alpha(ObjectKind::Key, "gone"),
            Deletion {
                deleted_at: T0,
                scheduled_purge: T0 + 100,
            },
        )
        .await
        .unwrap();
    store
        .restore_object(
            &alpha(SECRET, "Restored"),
            &[version(7), version(8)],
            &vid(7),
            &head_id(&vid(7)),
        )
        .await
        .unwrap();
}

/// Checks that everything `populate` wrote is there.
async fn verify(store: &SqliteStore) {
    assert_eq!(
        store.meta("root").await.unwrap(),
        Some(b"sealed root".to_vec())
    );
    assert_eq!(store.vault("alpha").await.unwrap(), Some(vault("alpha")));
    assert_eq!(store.principal("client").await.unwrap(), Some(principal()));
    assert_eq!(
        store.list_policies("assignment").await.unwrap(),
        vec![policy("a1", b"second")]
    );
    assert_eq!(store.access_generation().await.unwrap(), 5);
    let current = store
        .version(&alpha(SECRET, "DB-PASSWORD"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.object.name, "Db-Password");
    assert_eq!(current.version, version(3));
    let versions = store
        .list_versions(&alpha(SECRET, "db-password"), None, 10)
        .await
        .unwrap();
    let mut expected_2 = version(2);
    expected_2.value = b"rotated".to_vec();
    assert_eq!(versions, vec![version(1), expected_2, version(3)]);
    let deleted = store
        .list_objects("alpha", ObjectKind::Key, Listing::Deleted, None, 10)
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].object.deleted,
        Some(Deletion {
            deleted_at: T0,
            scheduled_purge: T0 + 100
        })
    );
    let restored = store
        .version(&alpha(SECRET, "restored"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.object.name, "Restored");
    assert_eq!(restored.version, version(7));
}

#[tokio::test]
async fn acknowledged_writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let store = SqliteStore::open(&path).unwrap();
    populate(&store).await;
    verify(&store).await;
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    verify(&store).await;
    // The reopened store keeps enforcing the rules on the old data.
    assert!(matches!(
        store
            .put_version(
                &alpha(SECRET, "db-password"),
                &version(1),
                &head(&version(1))
            )
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.create_vault(&vault("alpha")).await,
        Err(StoreError::Conflict)
    ));
    store
        .put_version(
            &alpha(SECRET, "db-password"),
            &version(4),
            &head(&version(4)),
        )
        .await
        .unwrap();
    store.close().await.unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .version(&alpha(SECRET, "db-password"), None)
            .await
            .unwrap()
            .unwrap()
            .version,
        version(4)
    );
}

/// Pending objects, managed-by links, documents, outbox rows and leases are stored with the
/// data: a closed and reopened store has them, and the lease's fence goes on from where it was.
#[tokio::test]
async fn new_capabilities_survive_close_and_reopen() {
    use arca_store::{
        BatchItem, DocumentOwner, DocumentRecord, ItemOutcome, OutboxMessage, WriteBatch,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let store = SqliteStore::open(&path).unwrap();
    store.create_vault(&vault("alpha")).await.unwrap();
    let cert = alpha(ObjectKind::Certificate, "Web");
    let key = alpha(ObjectKind::Key, "web");
    let document = DocumentRecord {
        owner: DocumentOwner::Object(cert.clone()),
        kind: "policy".into(),
        id: "p".into(),
        data: b"sealed".to_vec(),
    };
    let outcomes = store
        .write(&WriteBatch {
            items: vec![
                BatchItem::CreatePending {
                    address: cert.clone(),
                    head: b"h".to_vec(),
                    managed_by: None,
                },
                BatchItem::PutVersion {
                    address: key.clone(),
                    version: version(1),
                    head: head(&version(1)),
                    managed_by: Some(cert.clone()),
                },
                BatchItem::PutDocument(document.clone()),
                BatchItem::Append(OutboxMessage {
                    topic: "created".into(),
                    created: 1,
                    payload: b"event".to_vec(),
                }),
            ],
            fence: None,
        })
        .await
        .unwrap();
    let Some(ItemOutcome::Appended(id)) = outcomes.last() else {
        panic!("no outbox id: {outcomes:?}");
    };
    let lease = store
        .acquire_lease("purger", "a", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(store.release_lease(&lease.fence()).await.unwrap());
    store.close().await.unwrap();
    assert!(matches!(
        store.meta("x").await,
        Err(StoreError::Unavailable(_))
    ));
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    let pending = store.object(&cert).await.unwrap().unwrap();
    assert_eq!(
        (pending.name.as_str(), pending.current_version),
        ("Web", None)
    );
    let managed = store.object(&key).await.unwrap().unwrap();
    assert_eq!(managed.managed_by, Some(cert.clone()));
    assert_eq!(
        store
            .document(&document.owner, "policy", "p")
            .await
            .unwrap(),
        Some(document)
    );
    let rows = store.outbox_pending(None, 10).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [*id]);
    let next = store
        .acquire_lease("purger", "b", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.fence, lease.fence + 1);
    store.close().await.unwrap();
}

#[tokio::test]
async fn acknowledged_writes_are_in_the_files_before_any_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let store = SqliteStore::open(&path).unwrap();
    populate(&store).await;
    // Copy the database and its write-ahead log while the store is still open, as a crash
    // would leave them (no checkpoint, no clean close), and open the copy.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("arca.db");
    std::fs::copy(&path, &copy).unwrap();
    let wal = dir.path().join("arca.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    std::fs::copy(&wal, copy_dir.path().join("arca.db-wal")).unwrap();
    let recovered = SqliteStore::open(&copy).unwrap();
    verify(&recovered).await;
    drop(store);
}

#[tokio::test]
async fn access_generation_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.access_generation().await.unwrap(), 0);
    store.create_principal(&principal()).await.unwrap();
    store.create_policy(&policy("a1", b"doc")).await.unwrap();
    assert!(matches!(
        store.create_policy(&policy("a1", b"again")).await,
        Err(StoreError::Conflict)
    ));
    store.close().await.unwrap();

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.access_generation().await.unwrap(), 2);
    store
        .delete_access(&[("assignment".into(), "a1".into())], Some("client"))
        .await
        .unwrap();
    assert_eq!(store.access_generation().await.unwrap(), 3);
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.access_generation().await.unwrap(), 3);
    assert_eq!(store.principal("client").await.unwrap(), None);
    assert_eq!(store.policy("assignment", "a1").await.unwrap(), None);
}

fn read_pragma(path: &Path, name: &str) -> rusqlite::types::Value {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn schema_version_and_journal_mode_are_recorded_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested-name.db");
    assert!(!path.exists());
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.exists(), "open creates the file");
    drop(store);
    const { assert!(SCHEMA_VERSION >= 1) };
    assert_eq!(
        read_pragma(&path, "user_version"),
        rusqlite::types::Value::Integer(i64::from(SCHEMA_VERSION))
    );
    assert_eq!(
        read_pragma(&path, "journal_mode"),
        rusqlite::types::Value::Text("wal".into())
    );
    // Reopening an up-to-date file does not migrate again.
    let store = SqliteStore::open(&path).unwrap();
    store.create_vault(&vault("v")).await.unwrap();
    drop(store);
    assert_eq!(
        read_pragma(&path, "user_version"),
        rusqlite::types::Value::Integer(i64::from(SCHEMA_VERSION))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_keeps_every_acknowledged_write() {
    const TASKS: u64 = 400;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    store.create_vault(&vault("alpha")).await.unwrap();
    let before = store.write_stats();
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
    let mut handles = Vec::new();
    for n in 0..TASKS {
        let (store, barrier) = (store.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let name = format!("s{}", n % 20);
            store
                .put_version(&alpha(SECRET, &name), &version(n), &head(&version(n)))
                .await
        }));
    }
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    let after = store.write_stats();
    assert_eq!(after.writes - before.writes, TASKS);
    assert!(after.batches - before.batches <= TASKS);
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    let objects = store
        .list_objects("alpha", SECRET, Listing::Active, None, 100)
        .await
        .unwrap();
    assert_eq!(objects.len(), 20);
    let mut total = 0;
    for object in &objects {
        let versions = store
            .list_versions(&alpha(SECRET, &object.object.name), None, 1000)
            .await
            .unwrap();
        let index: u64 = object.object.name[1..].parse().unwrap();
        for v in &versions {
            let n = u64::from_str_radix(&v.version, 16).unwrap();
            assert_eq!(n % 20, index, "a version landed on the wrong object");
            assert_eq!(*v, version(n));
        }
        total += versions.len();
    }
    assert_eq!(total as u64, TASKS);
}

/// The error opening a store fails with, at the path `prepare` readies in a new temporary
/// directory.
fn open_refused(prepare: impl FnOnce(&Path) -> std::path::PathBuf) -> StoreError {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path());
    SqliteStore::open(&path).expect_err("the store opened")
}

#[test]
fn newer_schema_is_refused() {
    let refused = open_refused(|dir| {
        let path = dir.join("arca.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
            .unwrap();
        path
    });
    assert!(matches!(refused, StoreError::Corrupt(_)));
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let refused = open_refused(|dir| {
        let path = dir.join("arca.db");
        std::fs::write(&path, vec![0x5a_u8; 8192]).unwrap();
        path
    });
    match refused {
        StoreError::Corrupt(message) => assert!(!message.contains("ZZZ"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn another_programs_database_is_refused() {
    let refused = open_refused(|dir| {
        let path = dir.join("other.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (x TEXT); PRAGMA user_version = 1;")
            .unwrap();
        path
    });
    assert!(matches!(refused, StoreError::Corrupt(_)));
}

#[test]
fn a_missing_directory_is_unavailable() {
    let refused = open_refused(|dir| dir.join("no-such-dir").join("arca.db"));
    assert!(matches!(refused, StoreError::Unavailable(_)));
}
