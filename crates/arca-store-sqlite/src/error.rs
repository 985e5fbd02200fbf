//! Maps rusqlite errors to [`StoreError`].
//!
//! Messages name the kind of failure (SQLite's static description of the result code, a column
//! index) and never carry row data, parameter values or SQLite's free-form message, so a
//! `StoreError` can be logged without leaking sealed bytes or names.

use arca_store::StoreError;
use rusqlite::ErrorCode;

/// Converts a rusqlite error into the storage error callers see.
pub(crate) fn db(error: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match error {
        E::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(format!(
                "sqlite: {failure} (code {})",
                failure.extended_code
            )),
            _ => StoreError::Unavailable(format!(
                "sqlite: {failure} (code {})",
                failure.extended_code
            )),
        },
        E::FromSqlConversionFailure(column, _, _) => {
            StoreError::Corrupt(format!("stored value in result column {column} is invalid"))
        }
        E::IntegralValueOutOfRange(column, _) => StoreError::Corrupt(format!(
            "stored value in result column {column} is out of range"
        )),
        E::InvalidColumnType(column, _, _) => StoreError::Corrupt(format!(
            "stored value in result column {column} has an unexpected type"
        )),
        E::Utf8Error(..) => StoreError::Corrupt("stored text is not valid UTF-8".to_owned()),
        E::QueryReturnedNoRows | E::QueryReturnedMoreThanOneRow => {
            StoreError::Corrupt("a query returned an unexpected number of rows".to_owned())
        }
        _ => StoreError::Unavailable("sqlite: unexpected interface error".to_owned()),
    }
}

/// True if `error` is a primary-key or unique-index violation (not a foreign-key or check one).
pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error().map(|e| e.extended_code),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
    )
}

/// A row-mapping error for a stored value that violates the contract, mapped to `Corrupt`.
pub(crate) fn invalid_column(column: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn constraint_violations_are_classified_without_row_data() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k TEXT PRIMARY KEY, u TEXT UNIQUE, c INTEGER CHECK (c > 0));",
        )
        .unwrap();
        conn.execute("INSERT INTO t VALUES ('secret-key', 'secret-u', 1)", [])
            .unwrap();
        let duplicate = conn
            .execute("INSERT INTO t VALUES ('secret-key', 'x', 1)", [])
            .unwrap_err();
        assert!(is_unique_violation(&duplicate));
        let unique = conn
            .execute("INSERT INTO t VALUES ('y', 'secret-u', 1)", [])
            .unwrap_err();
        assert!(is_unique_violation(&unique));
        let check = conn
            .execute("INSERT INTO t VALUES ('z', 'z', 0)", [])
            .unwrap_err();
        assert!(!is_unique_violation(&check));
        let message = db(duplicate).to_string();
        assert!(
            message.starts_with("storage unavailable: sqlite:"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn unreadable_values_are_corrupt() {
        let conn = Connection::open_in_memory().unwrap();
        let error = conn
            .query_row("SELECT 'not a number'", [], |row| row.get::<_, i64>(0))
            .unwrap_err();
        let mapped = db(error);
        assert!(matches!(mapped, StoreError::Corrupt(_)), "{mapped:?}");
        assert!(!mapped.to_string().contains("not a number"));
        let mapped = db(invalid_column(3, "bad kind"));
        assert!(matches!(mapped, StoreError::Corrupt(ref m) if m.contains('3')));
    }
}
