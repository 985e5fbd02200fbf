//! Runs the shared storage conformance suite against `SqliteStore`, each case on a new database
//! file in its own temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use arca_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    // The directories must outlive the stores opened in them; they are removed at the end.
    let dirs = Mutex::new(Vec::new());
    arca_store::conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("arca.db")).unwrap();
        dirs.lock().unwrap().push(dir);
        std::future::ready(store)
    })
    .await;
    assert_eq!(
        dirs.lock().unwrap().len(),
        arca_store::conformance::CASE_NAMES.len(),
        "one fresh store per case"
    );
}
