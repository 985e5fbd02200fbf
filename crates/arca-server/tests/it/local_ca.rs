//! The deployment's local CA across starts: constrained to the names served, replaced when it no
//! longer covers them or predates constraints, and never handed out when the database holds a
//! CA certificate that does not belong to the sealed CA key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arca_core::FixedClock;
use arca_server::config::{Config, Settings};
use arca_store::Store;

const NOW: i64 = 1_800_000_000;

fn config(dir: &std::path::Path, suffix: &str) -> Config {
    let flags = Settings {
        data_dir: Some(dir.join("data").display().to_string()),
        key_file: Some(dir.join("arca.key").display().to_string()),
        dns_suffix: Some(suffix.to_owned()),
        ..Settings::default()
    };
    Config::resolve(None, &Settings::default(), &flags).unwrap()
}

fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    Arc::new(arca_store_sqlite::SqliteStore::open(&dir.join("data").join("arca.db")).unwrap())
}

async fn start(
    dir: &std::path::Path,
    suffix: &str,
    store: &Arc<dyn Store>,
) -> anyhow::Result<String> {
    let clock = Arc::new(FixedClock::new(NOW));
    arca_server::bootstrap::prepare(&config(dir, suffix), 8443, store.clone(), clock).await?;
    Ok(std::fs::read_to_string(dir.join("data").join("ca.pem")).unwrap())
}

fn stored_ca(value: &[u8]) -> serde_json::Value {
    serde_json::from_slice(value).unwrap()
}

#[tokio::test]
async fn the_ca_is_kept_while_it_covers_the_names_and_replaced_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let first = start(dir.path(), "vault.localhost", &store).await.unwrap();
    let record = stored_ca(&store.meta("ca").await.unwrap().unwrap());
    assert_eq!(
        record["names"],
        serde_json::json!(["127.0.0.1", "::1", "localhost", "vault.localhost"])
    );
    assert_eq!(
        start(dir.path(), "vault.localhost", &store).await.unwrap(),
        first
    );
    let moved = start(dir.path(), "vault.example.com", &store)
        .await
        .unwrap();
    assert_ne!(
        moved, first,
        "a CA that does not cover the new suffix is replaced"
    );
}

#[tokio::test]
async fn a_ca_made_before_name_constraints_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let first = start(dir.path(), "vault.localhost", &store).await.unwrap();
    let mut record = stored_ca(&store.meta("ca").await.unwrap().unwrap());
    record.as_object_mut().unwrap().remove("names");
    store
        .put_meta("ca", &serde_json::to_vec(&record).unwrap())
        .await
        .unwrap();
    let second = start(dir.path(), "vault.localhost", &store).await.unwrap();
    assert_ne!(second, first);
}

#[tokio::test]
async fn a_ca_certificate_swapped_in_the_database_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let first = start(dir.path(), "vault.localhost", &store).await.unwrap();
    // A database writer replaces the certificate with one of their own CA, hoping the server
    // writes it to ca.pem for clients to trust.
    let theirs = arca_crypto::generate_ca("Attacker CA", NOW).unwrap();
    let mut record = stored_ca(&store.meta("ca").await.unwrap().unwrap());
    record["cert_pem"] = serde_json::Value::String(theirs.cert_pem.clone());
    store
        .put_meta("ca", &serde_json::to_vec(&record).unwrap())
        .await
        .unwrap();
    let refused = start(dir.path(), "vault.localhost", &store)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not match"),
        "{refused:#}"
    );
    let on_disk = std::fs::read_to_string(dir.path().join("data").join("ca.pem")).unwrap();
    assert_eq!(on_disk, first, "ca.pem still holds the deployment's own CA");
}
