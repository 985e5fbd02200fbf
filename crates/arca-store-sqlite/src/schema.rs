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

const MIGRATIONS: &[&str] = &[V1];

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

/// Brings the schema of `conn`'s database up to [`SCHEMA_VERSION`], in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
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

    #[test]
    fn strict_tables_reject_wrong_types() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let bad = conn.execute("INSERT INTO vaults VALUES ('v', 'ninety', 0, 0)", []);
        assert!(bad.is_err());
        conn.execute("INSERT INTO vaults VALUES ('v', 90, 0, 0)", [])
            .unwrap();
        let half_deleted = conn.execute(
            "INSERT INTO objects VALUES ('v', 'secret', 'n', 'N', 'x', 5, NULL)",
            [],
        );
        assert!(half_deleted.is_err(), "deleted_at without scheduled_purge");
    }
}
