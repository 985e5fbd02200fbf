//! The one place that opens the storage backend the configuration names (`storage`) and wraps
//! it for the server. Everything else sees only `Arc<dyn arca_store::Store>`.
//!
//! `sqlite`: the database `arca.db` in the data directory, created private (mode 0600) if
//! missing, migrated to the current schema on open, and wrapped in `CachedStore`, which is sound
//! because this process is the embedded database's only writer. A backend shared by several
//! processes must not be wrapped that way (see `arca_store::cache`).

use std::path::Path;
use std::sync::Arc;

use arca_store::Store;

use crate::config::{Config, Storage};
use crate::start_error::StartError;

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "arca.db";

/// Opens the storage `config` names, for the data directory `data_dir` (already created).
/// Blocking (opening may migrate the schema): call it at start-up.
pub fn open(config: &Config, data_dir: &Path) -> Result<Arc<dyn Store>, StartError> {
    match config.storage {
        Storage::Sqlite => {
            let db_path = data_dir.join(SQLITE_FILE);
            create_private_file(&db_path)?;
            let store = arca_store_sqlite::SqliteStore::open(&db_path).map_err(|source| {
                StartError::Database {
                    path: db_path.clone(),
                    source,
                }
            })?;
            Ok(Arc::new(arca_store::CachedStore::new(
                Arc::new(store),
                arca_store::cache::DEFAULT_BUDGET_BYTES,
            )))
        }
    }
}

/// Creates `path` empty with mode 0600 if it does not exist, so the database (and the WAL and
/// shared-memory files SQLite derives from its mode) are private to the server's user.
fn create_private_file(path: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StartError::CreateFile {
            path: path.to_owned(),
            source,
        }),
    }
}
