//! The database schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. Migrations are append-only: a
//! released entry is never edited, a change is a new entry. Opening a file whose version is newer
//! than this build knows is refused as `Corrupt` rather than guessed at.

use arca_store::{StoreError, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::db;

/// `PRAGMA application_id` of an Arca database ("ARCA" in ASCII), so another program's SQLite
/// file is not mistaken for ours.
pub(crate) const APPLICATION_ID: i64 = 0x4152_4341;

/// The schema version this build creates and expects.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// Version 1. Names are keyed by their lower-case form (`lname`) and keep their spelling in
/// `name`. Versions hang off their object and objects off their vault, both `ON DELETE CASCADE`,
/// so purging an object or deleting a vault removes everything below it in one statement.
const V1: &str = "
CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE vaults (
    name             TEXT    NOT NULL PRIMARY KEY,
    retention_days   INTEGER NOT NULL,
    purge_protection INTEGER NOT NULL,
    created          INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE principals (
    client_id TEXT    NOT NULL PRIMARY KEY,
    object_id TEXT    NOT NULL UNIQUE,
    created   INTEGER NOT NULL,
    data      BLOB    NOT NULL
) STRICT;

CREATE TABLE objects (
    vault           TEXT    NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    lname           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    current_version TEXT    NOT NULL,
    deleted_at      INTEGER,
    scheduled_purge INTEGER,
    PRIMARY KEY (vault, kind, lname),
    CHECK ((deleted_at IS NULL) = (scheduled_purge IS NULL))
) WITHOUT ROWID, STRICT;

-- Active listings walk the primary key; deleted listings and the expiry scan use these.
CREATE INDEX objects_deleted_by_name ON objects (vault, kind, lname)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX objects_by_scheduled_purge ON objects (scheduled_purge)
    WHERE deleted_at IS NOT NULL;

-- A rowid table: version rows carry sealed values of up to tens of KiB, which SQLite stores
-- better out of the primary-key b-tree than in a WITHOUT ROWID one.
CREATE TABLE versions (
    vault   TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    lname   TEXT    NOT NULL,
    version TEXT    NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    nbf     INTEGER,
    exp     INTEGER,
    meta    BLOB    NOT NULL,
    value   BLOB    NOT NULL,
    PRIMARY KEY (vault, kind, lname, version),
    FOREIGN KEY (vault, kind, lname) REFERENCES objects (vault, kind, lname) ON DELETE CASCADE
) STRICT;
";

/// Version 2: access-control documents and the access generation.
///
/// `policies` is keyed by `(kind, id)` with the default `BINARY` collation, so keys compare
/// exactly and a kind's documents are listed in byte order of their ids by walking the primary
/// key. It is a `WITHOUT ROWID` table: documents are typically small (role definitions and
/// assignments); the rare large one (up to 1 MiB) spills to overflow pages.
///
/// `access_generation` holds exactly one row (`slot = 0`), created here at 0; writes to
/// principals and policies increment it in their own savepoint.
const V2: &str = "
CREATE TABLE policies (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID, STRICT;

CREATE TABLE access_generation (
    slot       INTEGER NOT NULL PRIMARY KEY CHECK (slot = 0),
    generation INTEGER NOT NULL CHECK (generation >= 0)
) STRICT;

INSERT INTO access_generation (slot, generation) VALUES (0, 0);
";

/// Version 3: the object's `head`, the server's sealed proof of which version is current
/// (`ObjectRecord::head`). Rows written before it get an empty head, which the server refuses
/// until its one-time upgrade has sealed one for them.
const V3: &str = "
ALTER TABLE objects ADD COLUMN head BLOB NOT NULL DEFAULT x'';
";

/// Version 4: what the capability traits of the store contract need.
///
/// - `objects` is rebuilt (SQLite cannot drop a NOT NULL) with `current_version` nullable (a
///   pending object has none; inner joins on it leave such objects out of listings) and the
///   managed-by link: `managed_kind` and `managed_name` (as spelled) of the managing object,
///   which by contract has the same vault and lower-case name. Rows are copied as they are;
///   `migrate` turns foreign keys off around the rebuild so that dropping the old table does not
///   cascade to `versions`, and checks them before committing.
/// - `object_documents` and `vault_documents`: documents scoped to an object or a vault, whose
///   foreign keys cascade, so purging an object or deleting a vault removes them in the same
///   statement.
/// - `outbox`: `AUTOINCREMENT`, so ids grow and are never reused once rows are removed.
/// - `leases`: one row per lease name; `expires_at_ms` on the clock of the process that owns the
///   database.
const V4: &str = "
CREATE TABLE objects_v4 (
    vault           TEXT    NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    lname           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    current_version TEXT,
    deleted_at      INTEGER,
    scheduled_purge INTEGER,
    head            BLOB    NOT NULL DEFAULT x'',
    managed_kind    TEXT,
    managed_name    TEXT,
    PRIMARY KEY (vault, kind, lname),
    CHECK ((deleted_at IS NULL) = (scheduled_purge IS NULL)),
    CHECK ((managed_kind IS NULL) = (managed_name IS NULL))
) WITHOUT ROWID, STRICT;

INSERT INTO objects_v4
    (vault, kind, lname, name, current_version, deleted_at, scheduled_purge, head)
SELECT vault, kind, lname, name, current_version, deleted_at, scheduled_purge, head
FROM objects;

DROP TABLE objects;
ALTER TABLE objects_v4 RENAME TO objects;

CREATE INDEX objects_deleted_by_name ON objects (vault, kind, lname)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX objects_by_scheduled_purge ON objects (scheduled_purge)
    WHERE deleted_at IS NOT NULL;

CREATE TABLE object_documents (
    vault TEXT NOT NULL,
    okind TEXT NOT NULL,
    lname TEXT NOT NULL,
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    data  BLOB NOT NULL,
    PRIMARY KEY (vault, okind, lname, kind, id),
    FOREIGN KEY (vault, okind, lname) REFERENCES objects (vault, kind, lname) ON DELETE CASCADE
) WITHOUT ROWID, STRICT;

CREATE TABLE vault_documents (
    vault TEXT NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    data  BLOB NOT NULL,
    PRIMARY KEY (vault, kind, id)
) WITHOUT ROWID, STRICT;

CREATE TABLE outbox (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic   TEXT    NOT NULL,
    created INTEGER NOT NULL,
    payload BLOB    NOT NULL
) STRICT;

CREATE TABLE leases (
    name          TEXT    NOT NULL PRIMARY KEY,
    holder        TEXT    NOT NULL,
    fence         INTEGER NOT NULL CHECK (fence >= 1),
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
";

/// Brings the schema of `conn`'s database up to [`SCHEMA_VERSION`], in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    // Foreign keys cannot be switched inside a transaction; a migration that rebuilds a table
    // (V4) needs them off, so they are off for the whole migration and checked before commit.
    let foreign_keys: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(db)?;
    let result = migrate_in_transaction(conn);
    conn.pragma_update(None, "foreign_keys", foreign_keys != 0)
        .map_err(db)?;
    result
}

fn migrate_in_transaction(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db)?;
    let application_id: i64 = tx
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(db)?;
    let known = i64::from(SCHEMA_VERSION);
    if current > 0 && application_id != APPLICATION_ID {
        return Err(StoreError::Corrupt(
            "the database file does not belong to Arca".to_owned(),
        ));
    }
    if current < 0 || current > known {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is not supported by this build (at most {known})"
        )));
    }
    if current == known {
        return Ok(());
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.execute_batch(migration).map_err(db)?;
    }
    let broken = tx
        .prepare("PRAGMA foreign_key_check")
        .and_then(|mut s| s.exists([]))
        .map_err(db)?;
    if broken {
        return Err(StoreError::Corrupt(
            "the migrated database breaks a foreign key".to_owned(),
        ));
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(db)?;
    tx.pragma_update(None, "user_version", known).map_err(db)?;
    tx.commit().map_err(db)?;
    tracing::info!(from = current, to = known, "sqlite schema migrated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION));
        conn.execute("INSERT INTO meta VALUES ('k', x'00')", [])
            .unwrap();
        migrate(&mut conn).unwrap();
        let count: i64 = conn
            .query_row("SELECT count(*) FROM meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1, "a second migrate must not recreate tables");
    }

    #[test]
    fn refuses_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn refuses_foreign_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE other (x); PRAGMA user_version = 1;")
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::Corrupt(_))));
    }

    /// Creates, in `conn`'s empty database, what a build of schema version 1 left: the V1
    /// tables, the version pragmas, and a row in every table.
    fn make_version_1(conn: &Connection) {
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO meta VALUES ('root_key', x'0102');
             INSERT INTO vaults VALUES ('alpha', 30, 1, 1700000000);
             INSERT INTO principals VALUES ('client-a', 'object-a', 1700000000, x'aa');
             INSERT INTO objects VALUES ('alpha', 'secret', 'db', 'Db', 'v1', NULL, NULL);
             INSERT INTO versions VALUES
                 ('alpha', 'secret', 'db', 'v1', 1700000000, 1700000001, 1, NULL, 1800000000,
                  x'6d', x'76');",
        )
        .unwrap();
    }

    fn rows(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn version_1_migrates_keeping_its_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        make_version_1(&conn);
        migrate(&mut conn).unwrap();
        const { assert!(SCHEMA_VERSION >= 2) };
        assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION));
        for table in ["meta", "vaults", "principals", "objects", "versions"] {
            assert_eq!(rows(&conn, table), 1, "{table} lost its row");
        }
        let (client, data): (String, Vec<u8>) = conn
            .query_row("SELECT client_id, data FROM principals", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (client.as_str(), data.as_slice()),
            ("client-a", &[0xaa][..])
        );
        let (value, exp): (Vec<u8>, Option<i64>) = conn
            .query_row("SELECT value, exp FROM versions", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((value, exp), (b"v".to_vec(), Some(1_800_000_000)));
        assert_eq!(rows(&conn, "policies"), 0);
        let generation: i64 = conn
            .query_row("SELECT generation FROM access_generation", [], |r| r.get(0))
            .unwrap();
        assert_eq!(generation, 0, "existing principals do not count as changes");
        // Migrating again changes nothing.
        migrate(&mut conn).unwrap();
        assert_eq!(rows(&conn, "access_generation"), 1);
    }

    #[tokio::test]
    async fn a_version_1_file_opens_as_a_store_with_its_data() {
        use arca_store::prelude::*;
        use arca_store::{ObjectKind, PolicyRecord};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        make_version_1(&Connection::open(&path).unwrap());
        let store = crate::SqliteStore::open(&path).unwrap();
        assert_eq!(store.meta("root_key").await.unwrap(), Some(vec![1, 2]));
        assert!(
            store
                .vault("alpha")
                .await
                .unwrap()
                .unwrap()
                .purge_protection
        );
        assert_eq!(
            store.principal("client-a").await.unwrap().unwrap().data,
            [0xaa]
        );
        let current = store
            .version(
                &arca_store::ObjectAddress::new("alpha", ObjectKind::Secret, "DB"),
                None,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(current.object.name, "Db");
        assert!(current.object.head.is_empty(), "old objects have no head");
        assert_eq!(current.version.value, b"v");
        assert_eq!(store.access_generation().await.unwrap(), 0);
        assert!(store.list_policies("role").await.unwrap().is_empty());
        let doc = PolicyRecord {
            kind: "role".into(),
            id: "reader".into(),
            data: b"doc".to_vec(),
        };
        store.create_policy(&doc).await.unwrap();
        store.delete_access(&[], Some("client-a")).await.unwrap();
        assert_eq!(store.access_generation().await.unwrap(), 2);
        drop(store);
        let store = crate::SqliteStore::open(&path).unwrap();
        assert_eq!(store.policy("role", "reader").await.unwrap(), Some(doc));
        assert_eq!(store.access_generation().await.unwrap(), 2);
        store.close().await.unwrap();
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION));
    }

    /// Creates, in `conn`'s empty database, what a build of schema version 3 left (the release
    /// before the capability traits): an active object with two versions and a head, a deleted
    /// one, a principal and a policy.
    fn make_version_3(conn: &Connection) {
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(V2).unwrap();
        conn.execute_batch(V3).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO meta VALUES ('keyring', x'0102');
             INSERT INTO vaults VALUES ('alpha', 30, 1, 1700000000);
             INSERT INTO principals VALUES ('client-a', 'object-a', 1700000000, x'aa');
             INSERT INTO policies VALUES ('role', 'reader', x'bb');
             UPDATE access_generation SET generation = 5;
             INSERT INTO objects VALUES ('alpha', 'secret', 'db', 'Db', 'v2', NULL, NULL, x'68');
             INSERT INTO versions VALUES
                 ('alpha', 'secret', 'db', 'v1', 1700000000, 1700000001, 0, NULL, NULL,
                  x'6d31', x'7631'),
                 ('alpha', 'secret', 'db', 'v2', 1700000002, 1700000002, 1, 1600000000,
                  1800000000, x'6d32', x'7632');
             INSERT INTO objects VALUES
                 ('alpha', 'key', 'gone', 'Gone', 'k1', 1700000100, 1702592100, x'');
             INSERT INTO versions VALUES
                 ('alpha', 'key', 'gone', 'k1', 1700000000, 1700000000, 1, NULL, NULL,
                  x'6d', x'6b');",
        )
        .unwrap();
    }

    #[tokio::test]
    async fn a_version_3_file_opens_as_a_store_with_its_data_and_new_capabilities() {
        use arca_store::prelude::*;
        use arca_store::{
            BatchItem, DocumentOwner, DocumentRecord, Listing, ObjectAddress, ObjectKind,
            OutboxMessage, WriteBatch,
        };

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        make_version_3(&Connection::open(&path).unwrap());
        let store = crate::SqliteStore::open(&path).unwrap();
        let db = ObjectAddress::secret("alpha", "DB");
        let current = store.version(&db, None).await.unwrap().unwrap();
        assert_eq!(current.object.name, "Db");
        assert_eq!(current.object.current_version.as_deref(), Some("v2"));
        assert_eq!(current.object.head, b"h");
        assert_eq!(current.object.managed_by, None);
        assert_eq!(
            (current.version.nbf, current.version.exp),
            (Some(1_600_000_000), Some(1_800_000_000))
        );
        assert_eq!(current.version.value, b"v2");
        let first = store.version(&db, Some("v1")).await.unwrap().unwrap();
        assert!(!first.version.enabled);
        assert_eq!(first.version.meta, b"m1");
        let versions = store.list_versions(&db, None, 10).await.unwrap();
        assert_eq!(versions.len(), 2);
        let gone = ObjectAddress::new("alpha", ObjectKind::Key, "gone");
        let deleted = store.object(&gone).await.unwrap().unwrap();
        assert_eq!(
            deleted.deleted.map(|d| d.scheduled_purge),
            Some(1_702_592_100)
        );
        let listed = store
            .list_objects(
                arca_store::ObjectQuery::new("alpha", ObjectKind::Key, Listing::Deleted).limit(10),
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            store.principal("client-a").await.unwrap().unwrap().data,
            [0xaa]
        );
        assert_eq!(
            store.policy("role", "reader").await.unwrap().unwrap().data,
            [0xbb]
        );
        assert_eq!(store.access_generation().await.unwrap(), 5);
        assert_eq!(store.meta("keyring").await.unwrap(), Some(vec![1, 2]));

        // The new capabilities work on the upgraded file.
        let cert = ObjectAddress::new("alpha", ObjectKind::Certificate, "db");
        let batch = WriteBatch {
            items: vec![
                BatchItem::CreatePending {
                    address: cert.clone(),
                    head: Vec::new(),
                    managed_by: None,
                },
                BatchItem::PutDocument(DocumentRecord {
                    owner: DocumentOwner::Object(db.clone()),
                    kind: "rotation".into(),
                    id: "policy".into(),
                    data: b"doc".to_vec(),
                }),
                BatchItem::Append(OutboxMessage {
                    topic: "t".into(),
                    created: 0,
                    payload: Vec::new(),
                }),
            ],
            fence: None,
        };
        store.write(&batch).await.unwrap();
        assert_eq!(
            store.object(&cert).await.unwrap().unwrap().current_version,
            None
        );
        assert_eq!(store.outbox_pending(None, 10).await.unwrap().len(), 1);
        // Foreign keys are on again: deleting the vault cascades to versions and documents.
        store.delete_vault("alpha").await.unwrap();
        store.close().await.unwrap();
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION));
        for table in ["objects", "versions", "object_documents"] {
            assert_eq!(
                rows(&conn, table),
                0,
                "{table} kept rows of a deleted vault"
            );
        }
        assert_eq!(rows(&conn, "principals"), 1);
    }

    #[test]
    fn strict_tables_reject_wrong_types() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let bad = conn.execute("INSERT INTO vaults VALUES ('v', 'ninety', 0, 0)", []);
        assert!(bad.is_err());
        conn.execute("INSERT INTO vaults VALUES ('v', 90, 0, 0)", [])
            .unwrap();
        let half_deleted = conn.execute(
            "INSERT INTO objects (vault, kind, lname, name, current_version, deleted_at) \
             VALUES ('v', 'secret', 'n', 'N', 'x', 5)",
            [],
        );
        assert!(half_deleted.is_err(), "deleted_at without scheduled_purge");
        let half_managed = conn.execute(
            "INSERT INTO objects (vault, kind, lname, name, managed_kind) \
             VALUES ('v', 'key', 'n', 'N', 'certificate')",
            [],
        );
        assert!(half_managed.is_err(), "managed_kind without managed_name");
        assert!(half_deleted.is_err(), "deleted_at without scheduled_purge");
        let text_data = conn.execute("INSERT INTO policies VALUES ('role', 'r', 'text')", []);
        assert!(text_data.is_err(), "policy data must be a blob");
        let second_row = conn.execute("INSERT INTO access_generation VALUES (1, 0)", []);
        assert!(second_row.is_err(), "the generation has one row");
        let negative = conn.execute("UPDATE access_generation SET generation = -1", []);
        assert!(negative.is_err(), "the generation is never negative");
    }
}
