//! What the engine's unit tests share: an engine on a real embedded store in a temporary
//! directory, with one vault (`prod`) and an access snapshot in which the principal `admin` is
//! Key Vault Administrator at `/`, and proofs made the way the routes make them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arca_core::authz::{decide, roles, AssignmentDoc, Scope, Snapshot, ADMINISTRATOR_ROLE_ID};
use arca_core::{FixedClock, Operation};
use arca_crypto::Keyring;
use arca_store::{Store, VaultRecord};

use crate::{Authorized, Engine};

pub(crate) const NOW: i64 = 1_800_000_000;

pub(crate) struct Setup {
    pub _dir: tempfile::TempDir,
    pub engine: Engine,
    pub clock: Arc<FixedClock>,
    pub vault: VaultRecord,
    pub snapshot: Snapshot,
}

/// A fresh engine at [`NOW`] on a store of its own.
pub(crate) async fn setup() -> Setup {
    let keyring = Arc::new(Keyring::generate().unwrap());
    open(
        tempfile::tempdir().unwrap(),
        keyring,
        Arc::new(FixedClock::new(NOW)),
    )
    .await
}

/// An engine on the store in `dir` (its vault `prod` created if new), sealing with `keyring`:
/// opening the same directory again is a restart.
pub(crate) async fn open(
    dir: tempfile::TempDir,
    keyring: Arc<Keyring>,
    clock: Arc<FixedClock>,
) -> Setup {
    let store: Arc<dyn Store> =
        Arc::new(arca_store_sqlite::SqliteStore::open(&dir.path().join("engine.db")).unwrap());
    let vault = VaultRecord {
        name: "prod".into(),
        retention_days: 90,
        purge_protection: false,
        created: NOW,
    };
    if store.vault(&vault.name).await.unwrap().is_none() {
        store.create_vault(&vault).await.unwrap();
    }
    let engine = Engine::new(store, keyring, clock.clone());
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
        clock,
        vault,
        snapshot,
    }
}

impl Setup {
    /// The administrator's proof for `operation` on the vault, or on the object `name` of the
    /// operation's collection.
    pub(crate) fn proof(&self, operation: Operation, name: Option<&str>) -> Authorized {
        let resource = match name {
            Some(n) => Scope::object(&self.vault.name, operation.kind().collection(), n),
            None => Scope::vault(&self.vault.name),
        };
        let decision = decide(&self.snapshot, "admin", operation.data_action(), &resource);
        Authorized::new(operation, &decision).unwrap()
    }
}
