//! Opening and configuring SQLite connections: the one read-write connection owned by the writer
//! thread, and the read-only (`query_only`) connections of the read pool.
//!
//! The writer sets the durability settings: WAL journal mode (readers never block the writer nor
//! each other), `synchronous = FULL` (the WAL is synced on every commit, so an acknowledged
//! write survives power loss) and foreign keys (deleting a vault or an object cascades).

use std::path::Path;
use std::time::Duration;

use arca_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::db;

/// How long a connection waits on a lock held by another process before `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection; comfortably more than the distinct queries we run.
const STATEMENT_CACHE: usize = 64;
/// WAL pages (4 KiB each) after which a commit also checkpoints the WAL into the database file.
/// SQLite's default, 1,000, checkpoints many times a second under sustained writes, and every
/// checkpoint stalls the batch that triggers it; a larger WAL lets repeated pages coalesce, so
/// checkpoints are rarer and cost less per write. The WAL file stays at most about this size.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8_000;

/// Opens (creating if needed) the read-write connection and applies the durability settings.
pub(crate) fn open_writer(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(
            "sqlite: the database cannot use WAL journal mode".to_owned(),
        ));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    ))
    .map_err(db)?;
    let foreign_keys: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .map_err(db)?;
    if foreign_keys != 1 {
        return Err(StoreError::Unavailable(
            "sqlite: foreign keys cannot be enabled".to_owned(),
        ));
    }
    Ok(conn)
}

/// Opens a connection of the read pool. The database must already exist (the writer creates
/// it); `query_only` makes any accidental write fail instead of bypassing the writer thread.
pub(crate) fn open_reader(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Hot objects are served from `CachedStore` above this crate and the file's pages from the
    // OS page cache; a small page cache per reader keeps the pool's memory low.
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -512;")
        .map_err(db)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| {
            row.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
    }

    #[test]
    fn writer_uses_wal_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("w.db")).unwrap();
        assert_eq!(pragma(&conn, "journal_mode"), "wal");
        assert_eq!(pragma(&conn, "synchronous"), "2", "2 is FULL");
        assert_eq!(
            pragma(&conn, "wal_autocheckpoint"),
            WAL_AUTOCHECKPOINT_PAGES.to_string()
        );
        assert_eq!(pragma(&conn, "foreign_keys"), "1");
        assert_eq!(pragma(&conn, "busy_timeout"), "5000");
        assert_eq!(pragma(&conn, "query_only"), "0");
    }

    #[test]
    fn readers_refuse_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let writer = open_writer(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
        let reader = open_reader(&path).unwrap();
        assert_eq!(pragma(&reader, "query_only"), "1");
        assert_eq!(pragma(&reader, "journal_mode"), "wal");
        assert!(reader.execute("INSERT INTO t VALUES (1)", []).is_err());
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let count: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }

    #[test]
    fn reader_does_not_create_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.db");
        assert!(matches!(
            open_reader(&path),
            Err(StoreError::Unavailable(_))
        ));
        assert!(!path.exists());
    }
}
