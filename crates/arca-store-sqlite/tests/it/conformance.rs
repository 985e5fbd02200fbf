//! Runs the shared storage conformance suite against `SqliteStore`, each case on a new database
//! file in its own temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_store_tests::conformance::head;
use std::sync::{Arc, Mutex};

use arca_store_sqlite::SqliteStore;

/// A store on a new database file in a new temporary directory, which `dirs` keeps: the
/// directories must outlive the stores opened in them; they are removed at the end.
fn fresh_store(dirs: &Mutex<Vec<tempfile::TempDir>>) -> SqliteStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("arca.db")).unwrap();
    dirs.lock().unwrap().push(dir);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dirs = Mutex::new(Vec::new());
    arca_store_tests::run_all(|| std::future::ready(fresh_store(&dirs))).await;
    assert_eq!(
        dirs.lock().unwrap().len(),
        arca_store_tests::CASE_NAMES.len(),
        "one fresh store per case"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_sqlite_store_passes_the_conformance_suite() {
    let dirs = Mutex::new(Vec::new());
    arca_store_tests::run_all(|| {
        let store = fresh_store(&dirs);
        // A tiny budget as well as the default, so eviction paths run too.
        let budget = if dirs.lock().unwrap().len() % 2 == 0 {
            2048
        } else {
            arca_store::cache::DEFAULT_BUDGET_BYTES
        };
        std::future::ready(arca_store::CachedStore::new(Arc::new(store), budget))
    })
    .await;
}

/// Readers racing writers of the same few objects never see a version older than one whose
/// write was acknowledged before the read started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_reads_never_go_back_behind_an_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("arca.db")).unwrap();
    let store = Arc::new(arca_store::CachedStore::new(Arc::new(sqlite), 1 << 20));
    // The race is probabilistic: several rounds make a missed invalidation show up reliably.
    for round in 0..6 {
        race_round(&store, &format!("v{round}")).await;
    }
}

async fn race_round(store: &Arc<arca_store::CachedStore>, vault: &str) {
    use arca_store::prelude::*;
    use arca_store::{ObjectKind, VaultRecord, VersionRecord};
    use std::sync::atomic::{AtomicU64, Ordering};

    store
        .create_vault(&VaultRecord {
            name: vault.into(),
            retention_days: 7,
            purge_protection: false,
            created: 0,
        })
        .await
        .unwrap();
    // Version ids grow with the sequence number, so "older" is a string comparison.
    let acknowledged: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let mut tasks = Vec::new();
    for name in 0..4usize {
        let (store, acknowledged, vault) = (store.clone(), acknowledged.clone(), vault.to_owned());
        tasks.push(tokio::spawn(async move {
            for seq in 1..=400u64 {
                let record = VersionRecord {
                    version: format!("{seq:032x}"),
                    created: 0,
                    updated: 0,
                    enabled: true,
                    nbf: None,
                    exp: None,
                    meta: vec![],
                    value: seq.to_be_bytes().to_vec(),
                };
                store
                    .put_version(
                        &arca_store::ObjectAddress::new(
                            &vault,
                            ObjectKind::Secret,
                            format!("n{name}"),
                        ),
                        &record,
                        &head(&record),
                    )
                    .await
                    .unwrap();
                acknowledged[name].store(seq, Ordering::SeqCst);
            }
        }));
    }
    for reader in 0..4usize {
        let (store, acknowledged, vault) = (store.clone(), acknowledged.clone(), vault.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in 0..8000usize {
                let name = (i + reader) % 4;
                let floor = acknowledged[name].load(Ordering::SeqCst);
                let Some(found) = store
                    .version(
                        &arca_store::ObjectAddress::new(
                            &vault,
                            ObjectKind::Secret,
                            format!("N{name}"),
                        ),
                        None,
                    )
                    .await
                    .unwrap()
                else {
                    assert_eq!(floor, 0, "an acknowledged object vanished");
                    continue;
                };
                let seen = u64::from_str_radix(&found.version.version, 16).unwrap();
                assert!(seen >= floor, "read {seen} after {floor} was acknowledged");
                assert_eq!(found.version.value, seen.to_be_bytes().to_vec());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}
