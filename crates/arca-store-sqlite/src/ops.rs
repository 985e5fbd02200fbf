//! The SQL behind each [`Store`](arca_store::Store) method, as plain functions on a connection.
//!
//! Write functions run on the writer thread inside a savepoint (see `writer`), so each is atomic
//! on its own and may check-then-act without races: there is exactly one writer. A write that
//! returns `Err` is rolled back to its savepoint, so it may fail after changing rows (the access
//! generation included). Read functions run on a pooled `query_only` connection. Every statement
//! goes through `prepare_cached`. Limits on arguments are checked by the caller (`lib.rs`).

use arca_store::{same_manager, ObjectQuery};
use std::collections::HashSet;

use arca_store::{
    BatchItem, Deletion, DocumentOwner, DocumentRecord, ItemOutcome, Lease, LeaseFence, Listing,
    ObjectAddress, ObjectKind, ObjectRecord, ObjectWithVersion, OutboxMessage, OutboxRow,
    PolicyRecord, PrincipalRecord, PurgedObject, StoreError, StoreResult, VaultRecord,
    VersionRecord, WriteBatch,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{db, invalid_column, is_unique_violation};

/// The address of an object as stored: vault, kind tag and lower-case name.
pub(crate) struct Key<'a> {
    vault: &'a str,
    kind: &'static str,
    lname: String,
}

impl<'a> Key<'a> {
    pub(crate) fn of(address: &'a ObjectAddress) -> Key<'a> {
        Key {
            vault: &address.vault,
            kind: address.kind.as_str(),
            lname: address.lower_name(),
        }
    }
}

/// The columns of an object joined with one of its versions, read by [`object_with_version`].
macro_rules! object_version_columns {
    () => {
        "o.name, o.current_version, o.deleted_at, o.scheduled_purge, o.head, o.vault, \
         o.managed_kind, o.managed_name, v.version, v.created, v.updated, v.enabled, v.nbf, v.exp, v.meta, v.value"
    };
}

/// Joins each object row `o` (read through `$objects`) with its version row `v` whose id is
/// `$version`.
macro_rules! objects_join_versions {
    ($objects:literal, $version:literal) => {
        concat!(
            " FROM ",
            $objects,
            " JOIN versions v ON v.vault = o.vault AND v.kind = o.kind \
             AND v.lname = o.lname AND v.version = ",
            $version
        )
    };
}

/// Active listings walk the primary key; deleted ones are pinned to the partial index of
/// deleted names (`INDEXED BY` fails loudly rather than silently scanning if it cannot apply).
macro_rules! list_objects_sql {
    (active, $after:literal) => {
        list_objects_sql!("objects o", "IS NULL", $after)
    };
    (deleted, $after:literal) => {
        list_objects_sql!(
            "objects o INDEXED BY objects_deleted_by_name",
            "IS NOT NULL",
            $after
        )
    };
    ($objects:literal, $state:literal, $after:literal) => {
        concat!(
            "SELECT ",
            object_version_columns!(),
            objects_join_versions!($objects, "o.current_version"),
            " WHERE o.vault = ?1 AND o.kind = ?2 AND o.deleted_at ",
            $state,
            $after,
            " ORDER BY o.lname LIMIT ?4"
        )
    };
}

macro_rules! list_versions_sql {
    ($after:literal) => {
        concat!(
            "SELECT version, created, updated, enabled, nbf, exp, meta, value FROM versions \
             WHERE vault = ?1 AND kind = ?2 AND lname = ?3",
            $after,
            " ORDER BY version LIMIT ?5"
        )
    };
}

const VERSION_CURRENT: &str = concat!(
    "SELECT ",
    object_version_columns!(),
    objects_join_versions!("objects o", "o.current_version"),
    " WHERE o.vault = ?1 AND o.kind = ?2 AND o.lname = ?3"
);
const VERSION_EXACT: &str = concat!(
    "SELECT ",
    object_version_columns!(),
    objects_join_versions!("objects o", "?4"),
    " WHERE o.vault = ?1 AND o.kind = ?2 AND o.lname = ?3"
);

const LIST_ACTIVE: &str = list_objects_sql!(active, "");
const LIST_ACTIVE_AFTER: &str = list_objects_sql!(active, " AND o.lname > ?3");
const LIST_DELETED: &str = list_objects_sql!(deleted, "");
const LIST_DELETED_AFTER: &str = list_objects_sql!(deleted, " AND o.lname > ?3");
const LIST_VERSIONS: &str = list_versions_sql!("");
const LIST_VERSIONS_AFTER: &str = list_versions_sql!(" AND version > ?4");
const POLICY: &str = "SELECT kind, id, data FROM policies WHERE kind = ?1 AND id = ?2";
const LIST_POLICIES: &str = "SELECT kind, id, data FROM policies WHERE kind = ?1 ORDER BY id";
const ACCESS_GENERATION: &str = "SELECT generation FROM access_generation WHERE slot = 0";
const PURGE_DUE: &str = "SELECT vault, kind, lname, name FROM objects \
     WHERE deleted_at IS NOT NULL AND scheduled_purge <= ?1 ORDER BY scheduled_purge LIMIT ?2";

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn version_at(row: &Row<'_>, base: usize) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        version: row.get(base)?,
        created: row.get(base + 1)?,
        updated: row.get(base + 2)?,
        enabled: row.get(base + 3)?,
        nbf: row.get(base + 4)?,
        exp: row.get(base + 5)?,
        meta: row.get(base + 6)?,
        value: row.get(base + 7)?,
    })
}

fn deletion_at(row: &Row<'_>, base: usize) -> rusqlite::Result<Option<Deletion>> {
    match (row.get(base)?, row.get(base + 1)?) {
        (None, None) => Ok(None),
        (Some(deleted_at), Some(scheduled_purge)) => Ok(Some(Deletion {
            deleted_at,
            scheduled_purge,
        })),
        _ => Err(invalid_column(base, "deletion time without purge time")),
    }
}

/// The object columns, in this order: name, current_version, deleted_at, scheduled_purge, head,
/// vault, managed_kind, managed_name.
const OBJECT_COLUMNS: &str =
    "name, current_version, deleted_at, scheduled_purge, head, vault, managed_kind, managed_name";

fn object_at(row: &Row<'_>) -> rusqlite::Result<ObjectRecord> {
    let managed_kind: Option<String> = row.get(6)?;
    let managed_by = match managed_kind {
        None => None,
        Some(tag) => {
            let kind = ObjectKind::parse(&tag)
                .ok_or_else(|| invalid_column(6, "unknown managing kind"))?;
            Some(ObjectAddress::new(
                row.get::<_, String>(5)?,
                kind,
                row.get::<_, String>(7)?,
            ))
        }
    };
    Ok(ObjectRecord {
        name: row.get(0)?,
        current_version: row.get(1)?,
        deleted: deletion_at(row, 2)?,
        head: row.get(4)?,
        managed_by,
    })
}

fn object_with_version(row: &Row<'_>) -> rusqlite::Result<ObjectWithVersion> {
    Ok(ObjectWithVersion {
        object: object_at(row)?,
        version: version_at(row, 8)?,
    })
}

fn vault_at(row: &Row<'_>) -> rusqlite::Result<VaultRecord> {
    Ok(VaultRecord {
        name: row.get(0)?,
        retention_days: row.get(1)?,
        purge_protection: row.get(2)?,
        created: row.get(3)?,
    })
}

fn principal_at(row: &Row<'_>) -> rusqlite::Result<PrincipalRecord> {
    Ok(PrincipalRecord {
        client_id: row.get(0)?,
        object_id: row.get(1)?,
        created: row.get(2)?,
        data: row.get(3)?,
    })
}

fn policy_at(row: &Row<'_>) -> rusqlite::Result<PolicyRecord> {
    Ok(PolicyRecord {
        kind: row.get(0)?,
        id: row.get(1)?,
        data: row.get(2)?,
    })
}

/// Maps a unique violation of an insert to `Conflict`, anything else as usual.
fn insert_error(error: rusqlite::Error) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Conflict
    } else {
        db(error)
    }
}

/// Succeeds if the statement changed a row, `NotFound` if it changed none.
fn changed_one(changed: usize) -> StoreResult<()> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

// ---- deployment metadata ----

pub(crate) fn meta(conn: &Connection, key: &str) -> StoreResult<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |row| row.get(0)).optional())
        .map_err(db)
}

pub(crate) fn put_meta_if_absent(conn: &Connection, key: &str, value: &[u8]) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![key, value]))
        .map_err(db)?;
    Ok(changed == 1)
}

pub(crate) fn put_meta(conn: &Connection, key: &str, value: &[u8]) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut s| s.execute(params![key, value]))
    .map_err(db)?;
    Ok(())
}

// ---- vaults ----

pub(crate) fn create_vault(conn: &Connection, vault: &VaultRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO vaults (name, retention_days, purge_protection, created) \
         VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![
        vault.name,
        vault.retention_days,
        vault.purge_protection,
        vault.created
    ])
    .map_err(insert_error)?;
    Ok(())
}

pub(crate) fn vault(conn: &Connection, name: &str) -> StoreResult<Option<VaultRecord>> {
    conn.prepare_cached(
        "SELECT name, retention_days, purge_protection, created FROM vaults WHERE name = ?1",
    )
    .and_then(|mut s| s.query_row([name], vault_at).optional())
    .map_err(db)
}

pub(crate) fn list_vaults(conn: &Connection) -> StoreResult<Vec<VaultRecord>> {
    conn.prepare_cached(
        "SELECT name, retention_days, purge_protection, created FROM vaults ORDER BY name",
    )
    .and_then(|mut s| s.query_map([], vault_at)?.collect())
    .map_err(db)
}

/// Deleting the vault row cascades to its objects, and from them to their versions.
pub(crate) fn delete_vault(conn: &Connection, name: &str) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("DELETE FROM vaults WHERE name = ?1")
        .and_then(|mut s| s.execute([name]))
        .map_err(db)?;
    changed_one(changed)
}

fn vault_exists(conn: &Connection, vault: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM vaults WHERE name = ?1")
        .and_then(|mut s| s.exists([vault]))
        .map_err(db)
}

// ---- access generation ----

/// Advances the access generation by one. Called last by every write to principals or
/// policies, once that write is sure to succeed; it shares the write's savepoint, so the two
/// are committed, or rolled back, together.
fn bump_access_generation(conn: &Connection) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("UPDATE access_generation SET generation = generation + 1 WHERE slot = 0")
        .and_then(|mut s| s.execute([]))
        .map_err(db)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(
            "the access generation row is missing".to_owned(),
        ))
    }
}

pub(crate) fn access_generation(conn: &Connection) -> StoreResult<u64> {
    let generation: i64 = conn
        .prepare_cached(ACCESS_GENERATION)
        .and_then(|mut s| s.query_row([], |row| row.get(0)))
        .map_err(db)?;
    u64::try_from(generation)
        .map_err(|_| StoreError::Corrupt("the access generation is negative".to_owned()))
}

// ---- principals ----

pub(crate) fn create_principal(conn: &Connection, principal: &PrincipalRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO principals (client_id, object_id, created, data) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![
        principal.client_id,
        principal.object_id,
        principal.created,
        principal.data
    ])
    .map_err(insert_error)?;
    bump_access_generation(conn)
}

pub(crate) fn update_principal(conn: &Connection, principal: &PrincipalRecord) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("UPDATE principals SET data = ?2 WHERE client_id = ?1")
        .and_then(|mut s| s.execute(params![principal.client_id, principal.data]))
        .map_err(db)?;
    changed_one(changed)?;
    bump_access_generation(conn)
}

pub(crate) fn principal(
    conn: &Connection,
    client_id: &str,
) -> StoreResult<Option<PrincipalRecord>> {
    conn.prepare_cached(
        "SELECT client_id, object_id, created, data FROM principals WHERE client_id = ?1",
    )
    .and_then(|mut s| s.query_row([client_id], principal_at).optional())
    .map_err(db)
}

pub(crate) fn list_principals(conn: &Connection) -> StoreResult<Vec<PrincipalRecord>> {
    conn.prepare_cached(
        "SELECT client_id, object_id, created, data FROM principals ORDER BY client_id",
    )
    .and_then(|mut s| s.query_map([], principal_at)?.collect())
    .map_err(db)
}

/// Removes the principal without counting the change; `NotFound` if there is none.
fn remove_principal(conn: &Connection, client_id: &str) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("DELETE FROM principals WHERE client_id = ?1")
        .and_then(|mut s| s.execute([client_id]))
        .map_err(db)?;
    changed_one(changed)
}

pub(crate) fn delete_principal(conn: &Connection, client_id: &str) -> StoreResult<()> {
    remove_principal(conn, client_id)?;
    bump_access_generation(conn)
}

// ---- access control ----

pub(crate) fn create_policy(conn: &Connection, record: &PolicyRecord) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO policies (kind, id, data) VALUES (?1, ?2, ?3)")
        .map_err(db)?
        .execute(params![record.kind, record.id, record.data])
        .map_err(insert_error)?;
    bump_access_generation(conn)
}

pub(crate) fn put_policy(conn: &Connection, record: &PolicyRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO policies (kind, id, data) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
    )
    .and_then(|mut s| s.execute(params![record.kind, record.id, record.data]))
    .map_err(db)?;
    bump_access_generation(conn)
}

pub(crate) fn policy(conn: &Connection, kind: &str, id: &str) -> StoreResult<Option<PolicyRecord>> {
    conn.prepare_cached(POLICY)
        .and_then(|mut s| s.query_row([kind, id], policy_at).optional())
        .map_err(db)
}

pub(crate) fn list_policies(conn: &Connection, kind: &str) -> StoreResult<Vec<PolicyRecord>> {
    conn.prepare_cached(LIST_POLICIES)
        .and_then(|mut s| s.query_map([kind], policy_at)?.collect())
        .map_err(db)
}

/// Removes the document if it exists, without counting the change; returns whether it did.
fn remove_policy(conn: &Connection, kind: &str, id: &str) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("DELETE FROM policies WHERE kind = ?1 AND id = ?2")
        .and_then(|mut s| s.execute([kind, id]))
        .map_err(db)?;
    Ok(changed > 0)
}

pub(crate) fn delete_policy(conn: &Connection, kind: &str, id: &str) -> StoreResult<()> {
    if !remove_policy(conn, kind, id)? {
        return Err(StoreError::NotFound);
    }
    bump_access_generation(conn)
}

/// The principal goes first, so that a missing one fails the call before any document is
/// touched; were it otherwise, rolling back the savepoint would still restore them.
pub(crate) fn delete_access(
    conn: &Connection,
    policies: &[(String, String)],
    principal: Option<&str>,
) -> StoreResult<()> {
    if let Some(client_id) = principal {
        remove_principal(conn, client_id)?;
    }
    for (kind, id) in policies {
        remove_policy(conn, kind, id)?;
    }
    bump_access_generation(conn)
}

// ---- objects ----

pub(crate) fn object(conn: &Connection, key: &Key<'_>) -> StoreResult<Option<ObjectRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE vault = ?1 AND kind = ?2 AND lname = ?3"
    ))
    .and_then(|mut s| {
        s.query_row(params![key.vault, key.kind, key.lname], object_at)
            .optional()
    })
    .map_err(db)
}

fn insert_object(
    conn: &Connection,
    key: &Key<'_>,
    name: &str,
    current: Option<&str>,
    head: &[u8],
    managed_by: Option<&ObjectAddress>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO objects \
         (vault, kind, lname, name, current_version, head, managed_kind, managed_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(db)?
    .execute(params![
        key.vault,
        key.kind,
        key.lname,
        name,
        current,
        head,
        managed_by.map(|m| m.kind.as_str()),
        managed_by.map(|m| m.name.as_str())
    ])
    .map_err(insert_error)?;
    Ok(())
}

fn insert_version(conn: &Connection, key: &Key<'_>, v: &VersionRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO versions \
         (vault, kind, lname, version, created, updated, enabled, nbf, exp, meta, value) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .map_err(db)?
    .execute(params![
        key.vault, key.kind, key.lname, v.version, v.created, v.updated, v.enabled, v.nbf, v.exp,
        v.meta, v.value
    ])
    .map_err(insert_error)?;
    Ok(())
}

/// Loads an object that must be active: `NotFound` if missing, `Deleted` if soft-deleted.
fn active_object(conn: &Connection, key: &Key<'_>) -> StoreResult<ObjectRecord> {
    match object(conn, key)? {
        None => Err(StoreError::NotFound),
        Some(record) if record.deleted.is_some() => Err(StoreError::Deleted),
        Some(record) => Ok(record),
    }
}

pub(crate) fn put_version(
    conn: &Connection,
    address: &ObjectAddress,
    version: &VersionRecord,
    head: &[u8],
    managed_by: Option<&ObjectAddress>,
) -> StoreResult<ObjectRecord> {
    let key = &Key::of(address);
    match object(conn, key)? {
        Some(record) if record.deleted.is_some() => Err(StoreError::Deleted),
        Some(record) if !same_manager(record.managed_by.as_ref(), managed_by) => {
            Err(StoreError::Conflict)
        }
        Some(record) => {
            insert_version(conn, key, version)?;
            conn.prepare_cached(
                "UPDATE objects SET current_version = ?4, head = ?5 \
                 WHERE vault = ?1 AND kind = ?2 AND lname = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.vault,
                    key.kind,
                    key.lname,
                    version.version,
                    head
                ])
            })
            .map_err(db)?;
            Ok(ObjectRecord {
                current_version: Some(version.version.clone()),
                head: head.to_vec(),
                ..record
            })
        }
        None => {
            if !vault_exists(conn, key.vault)? {
                return Err(StoreError::NotFound);
            }
            insert_object(
                conn,
                key,
                &address.name,
                Some(&version.version),
                head,
                managed_by,
            )?;
            insert_version(conn, key, version)?;
            Ok(ObjectRecord {
                name: address.name.clone(),
                current_version: Some(version.version.clone()),
                head: head.to_vec(),
                deleted: None,
                managed_by: managed_by.cloned(),
            })
        }
    }
}

pub(crate) fn create_pending(
    conn: &Connection,
    address: &ObjectAddress,
    head: &[u8],
    managed_by: Option<&ObjectAddress>,
) -> StoreResult<ObjectRecord> {
    let key = &Key::of(address);
    if !vault_exists(conn, key.vault)? {
        return Err(StoreError::NotFound);
    }
    match object(conn, key)? {
        Some(record) if record.deleted.is_some() => return Err(StoreError::Deleted),
        Some(_) => return Err(StoreError::Conflict),
        None => {}
    }
    insert_object(conn, key, &address.name, None, head, managed_by)?;
    Ok(ObjectRecord {
        name: address.name.clone(),
        current_version: None,
        head: head.to_vec(),
        deleted: None,
        managed_by: managed_by.cloned(),
    })
}

pub(crate) fn version(
    conn: &Connection,
    key: &Key<'_>,
    version: Option<&str>,
) -> StoreResult<Option<ObjectWithVersion>> {
    let found = match version {
        None => conn.prepare_cached(VERSION_CURRENT).and_then(|mut s| {
            s.query_row(params![key.vault, key.kind, key.lname], object_with_version)
                .optional()
        }),
        Some(id) => conn.prepare_cached(VERSION_EXACT).and_then(|mut s| {
            s.query_row(
                params![key.vault, key.kind, key.lname, id],
                object_with_version,
            )
            .optional()
        }),
    };
    found.map_err(db)
}

pub(crate) fn update_version(
    conn: &Connection,
    key: &Key<'_>,
    version: &VersionRecord,
) -> StoreResult<()> {
    active_object(conn, key)?;
    let changed = conn
        .prepare_cached(
            "UPDATE versions SET updated = ?5, enabled = ?6, nbf = ?7, exp = ?8, meta = ?9, \
             value = ?10 WHERE vault = ?1 AND kind = ?2 AND lname = ?3 AND version = ?4",
        )
        .and_then(|mut s| {
            s.execute(params![
                key.vault,
                key.kind,
                key.lname,
                version.version,
                version.updated,
                version.enabled,
                version.nbf,
                version.exp,
                version.meta,
                version.value
            ])
        })
        .map_err(db)?;
    changed_one(changed)
}

pub(crate) fn list_objects(
    conn: &Connection,
    query: &ObjectQuery<'_>,
) -> StoreResult<Vec<ObjectWithVersion>> {
    let ObjectQuery {
        vault,
        kind,
        which,
        after,
        limit,
    } = *query;
    let sql = match (which, after.is_some()) {
        (Listing::Active, false) => LIST_ACTIVE,
        (Listing::Active, true) => LIST_ACTIVE_AFTER,
        (Listing::Deleted, false) => LIST_DELETED,
        (Listing::Deleted, true) => LIST_DELETED_AFTER,
    };
    let after = after.map(str::to_ascii_lowercase).unwrap_or_default();
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(
                params![vault, kind.as_str(), after, sql_limit(limit)],
                object_with_version,
            )?
            .collect()
        })
        .map_err(db)
}

/// Runs in a read transaction so that the state check and the listing see one snapshot.
pub(crate) fn list_versions(
    conn: &mut Connection,
    key: &Key<'_>,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<VersionRecord>> {
    let tx = conn.transaction().map_err(db)?;
    active_object(&tx, key)?;
    let sql = match after {
        None => LIST_VERSIONS,
        Some(_) => LIST_VERSIONS_AFTER,
    };
    let versions = tx
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(
                params![
                    key.vault,
                    key.kind,
                    key.lname,
                    after.unwrap_or_default(),
                    sql_limit(limit)
                ],
                |row| version_at(row, 0),
            )?
            .collect()
        })
        .map_err(db)?;
    tx.finish().map_err(db)?;
    Ok(versions)
}

pub(crate) fn delete_object(
    conn: &Connection,
    key: &Key<'_>,
    deletion: Deletion,
) -> StoreResult<ObjectRecord> {
    let record = active_object(conn, key)?;
    conn.prepare_cached(
        "UPDATE objects SET deleted_at = ?4, scheduled_purge = ?5 \
         WHERE vault = ?1 AND kind = ?2 AND lname = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![
            key.vault,
            key.kind,
            key.lname,
            deletion.deleted_at,
            deletion.scheduled_purge
        ])
    })
    .map_err(db)?;
    conn.prepare_cached(
        "UPDATE objects SET deleted_at = ?4, scheduled_purge = ?5 \
         WHERE vault = ?1 AND kind IN ('secret', 'key', 'certificate') AND lname = ?2 \
         AND managed_kind = ?3 AND deleted_at IS NULL",
    )
    .and_then(|mut s| {
        s.execute(params![
            key.vault,
            key.lname,
            key.kind,
            deletion.deleted_at,
            deletion.scheduled_purge
        ])
    })
    .map_err(db)?;
    Ok(ObjectRecord {
        deleted: Some(deletion),
        ..record
    })
}

pub(crate) fn recover_object(conn: &Connection, key: &Key<'_>) -> StoreResult<ObjectRecord> {
    let record = match object(conn, key)? {
        Some(record) if record.deleted.is_some() => record,
        _ => return Err(StoreError::NotFound),
    };
    conn.prepare_cached(
        "UPDATE objects SET deleted_at = NULL, scheduled_purge = NULL \
         WHERE vault = ?1 AND kind = ?2 AND lname = ?3",
    )
    .and_then(|mut s| s.execute(params![key.vault, key.kind, key.lname]))
    .map_err(db)?;
    conn.prepare_cached(
        "UPDATE objects SET deleted_at = NULL, scheduled_purge = NULL \
         WHERE vault = ?1 AND kind IN ('secret', 'key', 'certificate') AND lname = ?2 \
         AND managed_kind = ?3 AND deleted_at IS NOT NULL",
    )
    .and_then(|mut s| s.execute(params![key.vault, key.lname, key.kind]))
    .map_err(db)?;
    Ok(ObjectRecord {
        deleted: None,
        ..record
    })
}

/// The objects managed by the object at `key` (same vault and name, `managed_kind` its kind),
/// as `(kind tag, name)`.
fn managed(conn: &Connection, key: &Key<'_>) -> StoreResult<Vec<(String, String)>> {
    conn.prepare_cached(
        "SELECT kind, name FROM objects \
         WHERE vault = ?1 AND kind IN ('secret', 'key', 'certificate') AND lname = ?2 \
         AND managed_kind = ?3",
    )
    .and_then(|mut s| {
        s.query_map(params![key.vault, key.lname, key.kind], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect()
    })
    .map_err(db)
}

/// Deletes the object row, which cascades to its versions and documents.
fn remove_object(conn: &Connection, vault: &str, kind: &str, lname: &str) -> StoreResult<usize> {
    conn.prepare_cached("DELETE FROM objects WHERE vault = ?1 AND kind = ?2 AND lname = ?3")
        .and_then(|mut s| s.execute(params![vault, kind, lname]))
        .map_err(db)
}

/// Removes the objects managed by `key`'s object; returns them.
fn purge_managed(conn: &Connection, key: &Key<'_>) -> StoreResult<Vec<PurgedObject>> {
    let mut purged = Vec::new();
    for (kind_tag, name) in managed(conn, key)? {
        remove_object(conn, key.vault, &kind_tag, &key.lname)?;
        purged.push(PurgedObject {
            vault: key.vault.to_owned(),
            kind: parse_kind(&kind_tag)?,
            name,
        });
    }
    Ok(purged)
}

fn parse_kind(tag: &str) -> StoreResult<ObjectKind> {
    ObjectKind::parse(tag)
        .ok_or_else(|| StoreError::Corrupt("an object row has an unknown kind".to_owned()))
}

pub(crate) fn purge_object(conn: &Connection, key: &Key<'_>) -> StoreResult<()> {
    match object(conn, key)? {
        Some(record) if record.deleted.is_some() => {}
        _ => return Err(StoreError::NotFound),
    }
    purge_managed(conn, key)?;
    let changed = remove_object(conn, key.vault, key.kind, &key.lname)?;
    changed_one(changed)
}

pub(crate) fn purge_expired(
    conn: &Connection,
    now: i64,
    limit: usize,
) -> StoreResult<Vec<PurgedObject>> {
    let due: Vec<(String, String, String, String)> = conn
        .prepare_cached(PURGE_DUE)
        .and_then(|mut s| {
            s.query_map(params![now, sql_limit(limit)], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect()
        })
        .map_err(db)?;
    let mut purged = Vec::with_capacity(due.len());
    let mut managed = Vec::new();
    for (vault, kind_tag, lname, name) in due {
        let kind = parse_kind(&kind_tag)?;
        let key = Key {
            vault: &vault,
            kind: kind.as_str(),
            lname,
        };
        managed.extend(purge_managed(conn, &key)?);
        remove_object(conn, key.vault, key.kind, &key.lname)?;
        purged.push(PurgedObject {
            vault: vault.clone(),
            kind,
            name,
        });
    }
    purged.extend(managed);
    Ok(purged)
}

pub(crate) fn restore_object(
    conn: &Connection,
    address: &ObjectAddress,
    versions: &[VersionRecord],
    current: &str,
    head: &[u8],
) -> StoreResult<ObjectRecord> {
    if versions.is_empty() {
        return Err(StoreError::Corrupt(
            "a restored object has no versions".to_owned(),
        ));
    }
    let mut ids = HashSet::with_capacity(versions.len());
    if !versions.iter().all(|v| ids.insert(v.version.as_str())) {
        return Err(StoreError::Corrupt(
            "a restored object has duplicate version ids".to_owned(),
        ));
    }
    if !ids.contains(current) {
        return Err(StoreError::Corrupt(
            "a restored object lacks its current version".to_owned(),
        ));
    }
    let key = &Key::of(address);
    if !vault_exists(conn, key.vault)? {
        return Err(StoreError::NotFound);
    }
    if object(conn, key)?.is_some() {
        return Err(StoreError::Conflict);
    }
    insert_object(conn, key, &address.name, Some(current), head, None)?;
    for version in versions {
        insert_version(conn, key, version)?;
    }
    Ok(ObjectRecord {
        name: address.name.clone(),
        current_version: Some(current.to_owned()),
        head: head.to_vec(),
        deleted: None,
        managed_by: None,
    })
}

/// Runs in a read transaction so that the existence check and the listing see one snapshot.
pub(crate) fn object_versions(
    conn: &mut Connection,
    key: &Key<'_>,
) -> StoreResult<Vec<VersionRecord>> {
    let tx = conn.transaction().map_err(db)?;
    if object(&tx, key)?.is_none() {
        return Err(StoreError::NotFound);
    }
    let versions = tx
        .prepare_cached(
            "SELECT version, created, updated, enabled, nbf, exp, meta, value FROM versions \
             WHERE vault = ?1 AND kind = ?2 AND lname = ?3 ORDER BY version",
        )
        .and_then(|mut s| {
            s.query_map(params![key.vault, key.kind, key.lname], |row| {
                version_at(row, 0)
            })?
            .collect()
        })
        .map_err(db)?;
    tx.finish().map_err(db)?;
    Ok(versions)
}

/// Runs in the writer's savepoint: a missing version fails the call after earlier rows changed,
/// and the savepoint undoes them.
pub(crate) fn reseal_object(
    conn: &Connection,
    key: &Key<'_>,
    head: &[u8],
    metas: &[(String, Vec<u8>)],
) -> StoreResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE objects SET head = ?4 WHERE vault = ?1 AND kind = ?2 AND lname = ?3",
        )
        .and_then(|mut s| s.execute(params![key.vault, key.kind, key.lname, head]))
        .map_err(db)?;
    changed_one(changed)?;
    let mut update = conn
        .prepare_cached(
            "UPDATE versions SET meta = ?5 \
             WHERE vault = ?1 AND kind = ?2 AND lname = ?3 AND version = ?4",
        )
        .map_err(db)?;
    for (version, meta) in metas {
        let changed = update
            .execute(params![key.vault, key.kind, key.lname, version, meta])
            .map_err(db)?;
        changed_one(changed)?;
    }
    Ok(())
}

// ---- documents ----

const OBJECT_DOCUMENT: &str = "SELECT kind, id, data FROM object_documents \
     WHERE vault = ?1 AND okind = ?2 AND lname = ?3 AND kind = ?4 AND id = ?5";
const LIST_OBJECT_DOCUMENTS: &str = "SELECT kind, id, data FROM object_documents \
     WHERE vault = ?1 AND okind = ?2 AND lname = ?3 AND kind = ?4 ORDER BY id";
const VAULT_DOCUMENT: &str =
    "SELECT kind, id, data FROM vault_documents WHERE vault = ?1 AND kind = ?2 AND id = ?3";
const LIST_VAULT_DOCUMENTS: &str =
    "SELECT kind, id, data FROM vault_documents WHERE vault = ?1 AND kind = ?2 ORDER BY id";

fn document_at(
    owner: &DocumentOwner,
) -> impl Fn(&Row<'_>) -> rusqlite::Result<DocumentRecord> + '_ {
    move |row| {
        Ok(DocumentRecord {
            owner: owner.clone(),
            kind: row.get(0)?,
            id: row.get(1)?,
            data: row.get(2)?,
        })
    }
}

pub(crate) fn document(
    conn: &Connection,
    owner: &DocumentOwner,
    kind: &str,
    id: &str,
) -> StoreResult<Option<DocumentRecord>> {
    match owner {
        DocumentOwner::Object(address) => {
            let key = Key::of(address);
            conn.prepare_cached(OBJECT_DOCUMENT).and_then(|mut s| {
                s.query_row(
                    params![key.vault, key.kind, key.lname, kind, id],
                    document_at(owner),
                )
                .optional()
            })
        }
        DocumentOwner::Vault(vault) => conn.prepare_cached(VAULT_DOCUMENT).and_then(|mut s| {
            s.query_row(params![vault, kind, id], document_at(owner))
                .optional()
        }),
    }
    .map_err(db)
}

pub(crate) fn list_documents(
    conn: &Connection,
    owner: &DocumentOwner,
    kind: &str,
) -> StoreResult<Vec<DocumentRecord>> {
    match owner {
        DocumentOwner::Object(address) => {
            let key = Key::of(address);
            conn.prepare_cached(LIST_OBJECT_DOCUMENTS)
                .and_then(|mut s| {
                    s.query_map(
                        params![key.vault, key.kind, key.lname, kind],
                        document_at(owner),
                    )?
                    .collect()
                })
        }
        DocumentOwner::Vault(vault) => {
            conn.prepare_cached(LIST_VAULT_DOCUMENTS).and_then(|mut s| {
                s.query_map(params![vault, kind], document_at(owner))?
                    .collect()
            })
        }
    }
    .map_err(db)
}

fn put_document(conn: &Connection, record: &DocumentRecord) -> StoreResult<()> {
    match &record.owner {
        DocumentOwner::Object(address) => {
            let key = Key::of(address);
            active_object(conn, &key)?;
            conn.prepare_cached(
                "INSERT INTO object_documents (vault, okind, lname, kind, id, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (vault, okind, lname, kind, id) DO UPDATE SET data = excluded.data",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.vault,
                    key.kind,
                    key.lname,
                    record.kind,
                    record.id,
                    record.data
                ])
            })
        }
        DocumentOwner::Vault(vault) => {
            if !vault_exists(conn, vault)? {
                return Err(StoreError::NotFound);
            }
            conn.prepare_cached(
                "INSERT INTO vault_documents (vault, kind, id, data) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (vault, kind, id) DO UPDATE SET data = excluded.data",
            )
            .and_then(|mut s| s.execute(params![vault, record.kind, record.id, record.data]))
        }
    }
    .map_err(db)?;
    Ok(())
}

fn delete_document(
    conn: &Connection,
    owner: &DocumentOwner,
    kind: &str,
    id: &str,
) -> StoreResult<()> {
    let changed = match owner {
        DocumentOwner::Object(address) => {
            let key = Key::of(address);
            conn.prepare_cached(
                "DELETE FROM object_documents \
                 WHERE vault = ?1 AND okind = ?2 AND lname = ?3 AND kind = ?4 AND id = ?5",
            )
            .and_then(|mut s| s.execute(params![key.vault, key.kind, key.lname, kind, id]))
        }
        DocumentOwner::Vault(vault) => conn
            .prepare_cached(
                "DELETE FROM vault_documents WHERE vault = ?1 AND kind = ?2 AND id = ?3",
            )
            .and_then(|mut s| s.execute(params![vault, kind, id])),
    }
    .map_err(db)?;
    changed_one(changed)
}

// ---- outbox ----

const OUTBOX_PENDING: &str =
    "SELECT id, topic, created, payload FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2";

fn append_outbox(conn: &Connection, message: &OutboxMessage) -> StoreResult<u64> {
    conn.prepare_cached("INSERT INTO outbox (topic, created, payload) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![message.topic, message.created, message.payload]))
        .map_err(db)?;
    u64::try_from(conn.last_insert_rowid())
        .map_err(|_| StoreError::Corrupt("an outbox id is negative".to_owned()))
}

pub(crate) fn outbox_pending(
    conn: &Connection,
    after: Option<u64>,
    limit: usize,
) -> StoreResult<Vec<OutboxRow>> {
    let after = after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
    conn.prepare_cached(OUTBOX_PENDING)
        .and_then(|mut s| {
            s.query_map(params![after, sql_limit(limit)], |row| {
                let id: i64 = row.get(0)?;
                Ok(OutboxRow {
                    id: u64::try_from(id).map_err(|_| invalid_column(0, "negative outbox id"))?,
                    message: OutboxMessage {
                        topic: row.get(1)?,
                        created: row.get(2)?,
                        payload: row.get(3)?,
                    },
                })
            })?
            .collect()
        })
        .map_err(db)
}

pub(crate) fn outbox_delivered(conn: &Connection, ids: &[u64]) -> StoreResult<u64> {
    let mut delete = conn
        .prepare_cached("DELETE FROM outbox WHERE id = ?1")
        .map_err(db)?;
    let mut removed = 0u64;
    for id in ids {
        let Ok(id) = i64::try_from(*id) else {
            continue;
        };
        removed += delete.execute([id]).map_err(db)? as u64;
    }
    Ok(removed)
}

// ---- leases ----

/// `(holder, fence, expires_at_ms)` of the lease row, if any.
fn lease_row(conn: &Connection, name: &str) -> StoreResult<Option<(String, u64, i64)>> {
    conn.prepare_cached("SELECT holder, fence, expires_at_ms FROM leases WHERE name = ?1")
        .and_then(|mut s| {
            s.query_row([name], |row| {
                let fence: i64 = row.get(1)?;
                Ok((
                    row.get(0)?,
                    u64::try_from(fence).map_err(|_| invalid_column(1, "negative fence"))?,
                    row.get(2)?,
                ))
            })
            .optional()
        })
        .map_err(db)
}

/// `now` is the store clock's time in milliseconds, read on the writer thread inside the
/// transaction (see the crate documentation).
pub(crate) fn acquire_lease(
    conn: &Connection,
    name: &str,
    holder: &str,
    ttl_ms: i64,
    now: i64,
) -> StoreResult<Option<Lease>> {
    let fence = match lease_row(conn, name)? {
        Some((held_by, fence, expires)) if expires > now => {
            if held_by != holder {
                return Ok(None);
            }
            fence
        }
        Some((_, fence, _)) => fence + 1,
        None => 1,
    };
    let expires_at_ms = now.saturating_add(ttl_ms);
    conn.prepare_cached(
        "INSERT INTO leases (name, holder, fence, expires_at_ms) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = excluded.fence, \
         expires_at_ms = excluded.expires_at_ms",
    )
    .and_then(|mut s| {
        s.execute(params![
            name,
            holder,
            i64::try_from(fence).unwrap_or(i64::MAX),
            expires_at_ms
        ])
    })
    .map_err(db)?;
    Ok(Some(Lease {
        name: name.to_owned(),
        holder: holder.to_owned(),
        fence,
        expires_at_ms,
    }))
}

fn fence_holds(conn: &Connection, fence: &LeaseFence, now: i64) -> StoreResult<bool> {
    Ok(matches!(
        lease_row(conn, &fence.name)?,
        Some((_, current, expires)) if current == fence.fence && expires > now
    ))
}

pub(crate) fn release_lease(conn: &Connection, fence: &LeaseFence, now: i64) -> StoreResult<bool> {
    if !fence_holds(conn, fence, now)? {
        return Ok(false);
    }
    conn.prepare_cached("UPDATE leases SET expires_at_ms = ?2 WHERE name = ?1")
        .and_then(|mut s| s.execute(params![fence.name, now]))
        .map_err(db)?;
    Ok(true)
}

// ---- batches ----

/// Runs in the writer's savepoint: an item that fails after earlier items changed rows fails
/// the call, and the savepoint undoes them all.
pub(crate) fn write_batch(
    conn: &Connection,
    batch: &WriteBatch,
    now: impl FnOnce() -> i64,
) -> StoreResult<Vec<ItemOutcome>> {
    if let Some(fence) = &batch.fence {
        if !fence_holds(conn, fence, now())? {
            return Err(StoreError::LeaseLost);
        }
    }
    let mut outcomes = Vec::with_capacity(batch.items.len());
    for item in &batch.items {
        outcomes.push(match item {
            BatchItem::PutVersion {
                address,
                version,
                head,
                managed_by,
            } => ItemOutcome::Object(put_version(
                conn,
                address,
                version,
                head,
                managed_by.as_ref(),
            )?),
            BatchItem::CreatePending {
                address,
                head,
                managed_by,
            } => ItemOutcome::Object(create_pending(conn, address, head, managed_by.as_ref())?),
            BatchItem::UpdateVersion { address, version } => {
                update_version(conn, &Key::of(address), version)?;
                ItemOutcome::Done
            }
            BatchItem::PutDocument(record) => {
                put_document(conn, record)?;
                ItemOutcome::Done
            }
            BatchItem::DeleteDocument { owner, kind, id } => {
                delete_document(conn, owner, kind, id)?;
                ItemOutcome::Done
            }
            BatchItem::Append(message) => ItemOutcome::Appended(append_outbox(conn, message)?),
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Null;

    /// The query plan of `sql`, one detail line per step.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = vec![Null; statement.parameter_count()];
        let rows = statement
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn hot_queries_search_indexes_and_never_sort() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let cases = [
            (VERSION_CURRENT, "PRIMARY KEY"),
            (VERSION_EXACT, "PRIMARY KEY"),
            (LIST_ACTIVE, "PRIMARY KEY"),
            (LIST_ACTIVE_AFTER, "PRIMARY KEY"),
            (LIST_DELETED, "objects_deleted_by_name"),
            (LIST_DELETED_AFTER, "objects_deleted_by_name"),
            (LIST_VERSIONS, "INDEX"),
            (LIST_VERSIONS_AFTER, "INDEX"),
            (PURGE_DUE, "objects_by_scheduled_purge"),
            (POLICY, "PRIMARY KEY"),
            (LIST_POLICIES, "PRIMARY KEY"),
            (ACCESS_GENERATION, "PRIMARY KEY"),
            (OBJECT_DOCUMENT, "PRIMARY KEY"),
            (LIST_OBJECT_DOCUMENTS, "PRIMARY KEY"),
            (VAULT_DOCUMENT, "PRIMARY KEY"),
            (LIST_VAULT_DOCUMENTS, "PRIMARY KEY"),
            (OUTBOX_PENDING, "PRIMARY KEY"),
        ];
        for (sql, index) in cases {
            let steps = plan(&conn, sql);
            assert!(
                steps.iter().all(|s| s.starts_with("SEARCH ")),
                "a full scan in {steps:?} for {sql}"
            );
            assert!(steps[0].contains(index), "{steps:?} does not use {index}");
        }
    }
}
