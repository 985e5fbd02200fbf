//! The read pool: a few `query_only` connections, each used by one blocking task at a time.
//!
//! A read takes a permit (waiting only if every connection is busy), takes an idle connection,
//! and runs on Tokio's blocking pool. In WAL mode readers see the last committed state and
//! neither block nor are blocked by the writer, so reads share no lock beyond the few
//! instructions it takes to pop and push a connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use arca_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::connection::open_reader;

pub(crate) struct ReadPool {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
}

struct Shared {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Shared {
    fn take(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn give_back(&self, conn: Connection) {
        // A connection left inside a transaction would pin an old snapshot; drop it and let
        // the next read open a fresh one.
        if conn.is_autocommit() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}

impl ReadPool {
    /// Opens `size` reader connections to the (existing) database at `path`.
    pub(crate) fn open(path: PathBuf, size: usize) -> StoreResult<ReadPool> {
        let size = size.max(1);
        let idle = (0..size)
            .map(|_| open_reader(&path))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReadPool {
            shared: Arc::new(Shared {
                path,
                idle: Mutex::new(idle),
            }),
            permits: Arc::new(Semaphore::new(size)),
        })
    }

    /// Runs `op` on a pooled connection on the calling thread. For point lookups by primary key
    /// (tens of microseconds when the page is cached): handing them to a blocking thread would
    /// cost more than the lookup itself. Listings and scans go through [`ReadPool::run`].
    pub(crate) async fn run_inline<T, F>(&self, op: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T>,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("storage read pool is closed".to_owned()))?;
        let mut conn = match self.shared.take() {
            Some(conn) => conn,
            None => open_reader(&self.shared.path)?,
        };
        let result = op(&mut conn);
        self.shared.give_back(conn);
        result
    }

    /// Runs `op` on a pooled connection in a blocking task.
    pub(crate) async fn run<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("storage read pool is closed".to_owned()))?;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            // The permit guarantees an idle connection unless one was lost to a panic or
            // dropped above; then a replacement is opened.
            let mut conn = match shared.take() {
                Some(conn) => conn,
                None => open_reader(&shared.path)?,
            };
            let result = op(&mut conn);
            shared.give_back(conn);
            drop(permit);
            result
        })
        .await
        .map_err(|_| StoreError::Unavailable("storage read task failed".to_owned()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::db;

    fn pool(size: usize) -> (tempfile::TempDir, Connection, ReadPool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let writer = crate::connection::open_writer(&path).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")
            .unwrap();
        let pool = ReadPool::open(path, size).unwrap();
        (dir, writer, pool)
    }

    /// The one value of the test table.
    fn read_x(conn: &mut Connection) -> StoreResult<i64> {
        conn.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))
            .map_err(db)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_run_in_parallel_up_to_the_pool_size() {
        let (_dir, _writer, pool) = pool(2);
        let pool = Arc::new(pool);
        let barrier = Arc::new(std::sync::Barrier::new(2));
        // Two reads that each wait for the other: they only finish if both run at once.
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (pool, barrier) = (pool.clone(), barrier.clone());
            handles.push(tokio::spawn(async move {
                pool.run(move |conn| {
                    barrier.wait();
                    read_x(conn)
                })
                .await
            }));
        }
        for handle in handles {
            assert_eq!(handle.await.unwrap().unwrap(), 7);
        }
        assert_eq!(pool.shared.idle.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn inline_reads_use_and_return_pooled_connections() {
        let (_dir, _writer, pool) = pool(1);
        for _ in 0..3 {
            let x = pool.run_inline(read_x).await.unwrap();
            assert_eq!(x, 7);
        }
        assert_eq!(pool.shared.idle.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_connection_left_in_a_transaction_is_replaced() {
        let (_dir, _writer, pool) = pool(1);
        pool.run(|conn| conn.execute_batch("BEGIN; SELECT x FROM t;").map_err(db))
            .await
            .unwrap();
        assert_eq!(pool.shared.idle.lock().unwrap().len(), 0);
        let x = pool.run(read_x).await.unwrap();
        assert_eq!(x, 7);
        assert_eq!(pool.shared.idle.lock().unwrap().len(), 1);
    }
}
