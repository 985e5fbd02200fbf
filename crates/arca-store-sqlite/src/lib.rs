//! The embedded storage backend of Arca: one SQLite database file implementing
//! [`arca_store::Store`]. It stores only sealed bytes and never logs row data.
//!
//! Design. All writes go to ONE writer thread that owns the read-write connection and is fed by
//! a channel. It group-commits: it takes the first queued write, drains up to 255 more that are
//! already queued, runs them in one transaction with each write inside its own `SAVEPOINT` (a
//! write that fails, say with `Conflict`, is rolled back alone), commits once, and only then
//! answers each caller through a oneshot channel. Reads never take a global lock: they run on
//! a small pool of `query_only` connections in Tokio's blocking pool, with cached prepared
//! statements, and in WAL mode they neither wait for the writer nor for each other.
//!
//! Access control. Principals and access-control documents are written like everything else,
//! and each such write also increments the one-row access generation inside its own savepoint,
//! so the counter moves exactly when, and as many times as, such writes commit.
//!
//! Durability. The file uses WAL journal mode with `synchronous = FULL`, so the WAL is synced
//! on every commit and a write is on disk before it is acknowledged; foreign keys are on
//! (deleting a vault or purging an object cascades); a busy timeout covers other processes
//! touching the file. The schema is created and migrated through `PRAGMA user_version`.
//! [`Store::close`] (or dropping the store) closes the writer's queue; the writer finishes every
//! queued write and exits before it returns, and every later call fails with `Unavailable`.
//!
//! Leases. The store's clock is this process's system clock (the process that owns the database
//! file is its only writer); lease expiry and fence checks read it on the writer thread, inside
//! the transaction of the write that depends on them.

mod connection;
mod error;
mod ops;
mod pool;
mod schema;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arca_core::{Clock, SystemClock};
use arca_store::prelude::*;
use arca_store::{
    check_document_key, check_lease_request, check_policy_key, Deletion, DocumentOwner,
    DocumentRecord, ItemOutcome, Lease, LeaseFence, Listing, ObjectAddress, ObjectKind,
    ObjectRecord, ObjectWithVersion, OutboxRow, PolicyRecord, PrincipalRecord, PurgedObject,
    StoreError, StoreResult, VaultRecord, VersionRecord, WriteBatch,
};
use async_trait::async_trait;
use rusqlite::Connection;

use crate::ops::Key;
use crate::pool::ReadPool;
use crate::writer::Writer;

pub use crate::schema::SCHEMA_VERSION;
pub use crate::writer::WriteStats;

/// Read connections in the pool: enough for the blocking pool to serve reads from every core of
/// a small server; more mostly adds memory.
const READERS: usize = 4;

const CLOSED: &str = "the store is closed";

/// A [`Store`] in one SQLite file. See the crate documentation for the design.
///
/// Dropping the store blocks until the writer thread has finished the writes already queued;
/// from async code prefer [`Store::close`], which waits on the blocking pool instead.
pub struct SqliteStore {
    writer: Arc<Writer>,
    readers: ReadPool,
    closed: AtomicBool,
    /// The store's clock (leases): the process's.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("write_stats", &self.write_stats())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and its schema if needed, and starts the
    /// writer thread. Blocking: call it at startup, not on an async hot path.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// [`SqliteStore::open`] with `clock` as the store's clock (for tests of lease expiry).
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> StoreResult<SqliteStore> {
        let mut conn = connection::open_writer(path)?;
        schema::migrate(&mut conn)?;
        let readers = ReadPool::open(path.to_path_buf(), READERS)?;
        let writer = Arc::new(Writer::start(conn)?);
        Ok(SqliteStore {
            writer,
            readers,
            closed: AtomicBool::new(false),
            clock,
        })
    }

    /// How many writes and group-commit transactions the writer has run.
    pub fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }

    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(CLOSED.to_owned()))
        } else {
            Ok(())
        }
    }

    async fn run_write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.check_open()?;
        self.writer.run(op).await
    }

    async fn read<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.check_open()?;
        self.readers.run(op).await
    }

    /// A point lookup, run on the calling thread (see `ReadPool::run_inline`).
    async fn lookup<T, F>(&self, op: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T>,
    {
        self.check_open()?;
        self.readers.run_inline(op).await
    }
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.lookup(|c| ops::meta(c, key)).await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> StoreResult<bool> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.run_write(move |c| ops::put_meta_if_absent(c, &key, &value))
            .await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.run_write(move |c| ops::put_meta(c, &key, &value))
            .await
    }
}

#[async_trait]
impl VaultStore for SqliteStore {
    async fn create_vault(&self, vault: &VaultRecord) -> StoreResult<()> {
        let vault = vault.clone();
        self.run_write(move |c| ops::create_vault(c, &vault)).await
    }

    async fn vault(&self, name: &str) -> StoreResult<Option<VaultRecord>> {
        self.lookup(|c| ops::vault(c, name)).await
    }

    async fn list_vaults(&self) -> StoreResult<Vec<VaultRecord>> {
        self.read(|c| ops::list_vaults(c)).await
    }

    async fn delete_vault(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.run_write(move |c| ops::delete_vault(c, &name)).await
    }
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        let principal = principal.clone();
        self.run_write(move |c| ops::create_principal(c, &principal))
            .await
    }

    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        let principal = principal.clone();
        self.run_write(move |c| ops::update_principal(c, &principal))
            .await
    }

    async fn principal(&self, client_id: &str) -> StoreResult<Option<PrincipalRecord>> {
        self.lookup(|c| ops::principal(c, client_id)).await
    }

    async fn list_principals(&self) -> StoreResult<Vec<PrincipalRecord>> {
        self.read(|c| ops::list_principals(c)).await
    }

    async fn delete_principal(&self, client_id: &str) -> StoreResult<()> {
        let client_id = client_id.to_owned();
        self.run_write(move |c| ops::delete_principal(c, &client_id))
            .await
    }

    // Limits are checked here, before a write is queued or a read takes a connection.

    async fn create_policy(&self, record: &PolicyRecord) -> StoreResult<()> {
        record.check_limits()?;
        let record = record.clone();
        self.run_write(move |c| ops::create_policy(c, &record))
            .await
    }

    async fn put_policy(&self, record: &PolicyRecord) -> StoreResult<()> {
        record.check_limits()?;
        let record = record.clone();
        self.run_write(move |c| ops::put_policy(c, &record)).await
    }

    async fn policy(&self, kind: &str, id: &str) -> StoreResult<Option<PolicyRecord>> {
        check_policy_key(kind, id)?;
        self.lookup(|c| ops::policy(c, kind, id)).await
    }

    async fn list_policies(&self, kind: &str) -> StoreResult<Vec<PolicyRecord>> {
        check_policy_key(kind, "")?;
        let kind = kind.to_owned();
        self.read(move |c| ops::list_policies(c, &kind)).await
    }

    async fn delete_policy(&self, kind: &str, id: &str) -> StoreResult<()> {
        check_policy_key(kind, id)?;
        let (kind, id) = (kind.to_owned(), id.to_owned());
        self.run_write(move |c| ops::delete_policy(c, &kind, &id))
            .await
    }

    async fn delete_access(
        &self,
        policies: &[(String, String)],
        principal: Option<&str>,
    ) -> StoreResult<()> {
        for (kind, id) in policies {
            check_policy_key(kind, id)?;
        }
        let (policies, principal) = (policies.to_vec(), principal.map(str::to_owned));
        self.run_write(move |c| ops::delete_access(c, &policies, principal.as_deref()))
            .await
    }

    async fn access_generation(&self) -> StoreResult<u64> {
        self.lookup(|c| ops::access_generation(c)).await
    }
}

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn write(&self, batch: &WriteBatch) -> StoreResult<Vec<ItemOutcome>> {
        batch.check_limits()?;
        let (batch, clock) = (batch.clone(), Arc::clone(&self.clock));
        self.run_write(move |c| ops::write_batch(c, &batch, || clock.now_millis()))
            .await
    }

    // The single-object writes, without building a batch (the same semantics, one copy fewer of
    // the sealed value on the hot write path).

    async fn put_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let (address, version, head) = (address.clone(), version.clone(), head.to_vec());
        self.run_write(move |c| ops::put_version(c, &address, &version, &head, None))
            .await
    }

    async fn update_version(
        &self,
        address: &ObjectAddress,
        version: &VersionRecord,
    ) -> StoreResult<()> {
        let (address, version) = (address.clone(), version.clone());
        self.run_write(move |c| ops::update_version(c, &Key::of(&address), &version))
            .await
    }

    async fn object(&self, address: &ObjectAddress) -> StoreResult<Option<ObjectRecord>> {
        self.lookup(|c| ops::object(c, &Key::of(address))).await
    }

    async fn version(
        &self,
        address: &ObjectAddress,
        version: Option<&str>,
    ) -> StoreResult<Option<ObjectWithVersion>> {
        self.lookup(|c| ops::version(c, &Key::of(address), version))
            .await
    }

    async fn list_objects(
        &self,
        vault: &str,
        kind: ObjectKind,
        which: Listing,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectWithVersion>> {
        let vault = vault.to_owned();
        let after = after.map(str::to_owned);
        self.read(move |c| ops::list_objects(c, &vault, kind, which, after.as_deref(), limit))
            .await
    }

    async fn list_versions(
        &self,
        address: &ObjectAddress,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<VersionRecord>> {
        let address = address.clone();
        let after = after.map(str::to_owned);
        self.read(move |c| ops::list_versions(c, &Key::of(&address), after.as_deref(), limit))
            .await
    }

    async fn delete_object(
        &self,
        address: &ObjectAddress,
        deletion: Deletion,
    ) -> StoreResult<ObjectRecord> {
        let address = address.clone();
        self.run_write(move |c| ops::delete_object(c, &Key::of(&address), deletion))
            .await
    }

    async fn recover_object(&self, address: &ObjectAddress) -> StoreResult<ObjectRecord> {
        let address = address.clone();
        self.run_write(move |c| ops::recover_object(c, &Key::of(&address)))
            .await
    }

    async fn purge_object(&self, address: &ObjectAddress) -> StoreResult<()> {
        let address = address.clone();
        self.run_write(move |c| ops::purge_object(c, &Key::of(&address)))
            .await
    }

    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<Vec<PurgedObject>> {
        self.run_write(move |c| ops::purge_expired(c, now, limit))
            .await
    }

    async fn restore_object(
        &self,
        address: &ObjectAddress,
        versions: &[VersionRecord],
        current: &str,
        head: &[u8],
    ) -> StoreResult<ObjectRecord> {
        let (address, current) = (address.clone(), current.to_owned());
        let (versions, head) = (versions.to_vec(), head.to_vec());
        self.run_write(move |c| ops::restore_object(c, &address, &versions, &current, &head))
            .await
    }

    async fn object_versions(&self, address: &ObjectAddress) -> StoreResult<Vec<VersionRecord>> {
        let address = address.clone();
        self.read(move |c| ops::object_versions(c, &Key::of(&address)))
            .await
    }

    async fn reseal_object(
        &self,
        address: &ObjectAddress,
        head: &[u8],
        metas: &[(String, Vec<u8>)],
    ) -> StoreResult<()> {
        let address = address.clone();
        let (head, metas) = (head.to_vec(), metas.to_vec());
        self.run_write(move |c| ops::reseal_object(c, &Key::of(&address), &head, &metas))
            .await
    }
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn document(
        &self,
        owner: &DocumentOwner,
        kind: &str,
        id: &str,
    ) -> StoreResult<Option<DocumentRecord>> {
        check_document_key(kind, id)?;
        self.lookup(|c| ops::document(c, owner, kind, id)).await
    }

    async fn list_documents(
        &self,
        owner: &DocumentOwner,
        kind: &str,
    ) -> StoreResult<Vec<DocumentRecord>> {
        check_document_key(kind, "")?;
        let (owner, kind) = (owner.clone(), kind.to_owned());
        self.read(move |c| ops::list_documents(c, &owner, &kind))
            .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn outbox_pending(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<OutboxRow>> {
        self.read(move |c| ops::outbox_pending(c, after, limit))
            .await
    }

    async fn outbox_delivered(&self, ids: &[u64]) -> StoreResult<u64> {
        let ids = ids.to_vec();
        self.run_write(move |c| ops::outbox_delivered(c, &ids))
            .await
    }
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        let ttl_ms = check_lease_request(name, holder, ttl)?;
        let (name, holder) = (name.to_owned(), holder.to_owned());
        let clock = Arc::clone(&self.clock);
        self.run_write(move |c| ops::acquire_lease(c, &name, &holder, ttl_ms, clock.now_millis()))
            .await
    }

    async fn release_lease(&self, fence: &LeaseFence) -> StoreResult<bool> {
        let (fence, clock) = (fence.clone(), Arc::clone(&self.clock));
        self.run_write(move |c| ops::release_lease(c, &fence, clock.now_millis()))
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) -> StoreResult<()> {
        self.closed.store(true, Ordering::SeqCst);
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || writer.stop())
            .await
            .map_err(|_| StoreError::Unavailable("closing the sqlite store failed".to_owned()))
    }
}
