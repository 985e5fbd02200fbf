//! The single writer thread and its group commit.
//!
//! All writes go through one thread that owns the read-write connection, so writers never
//! contend for SQLite's write lock. The thread takes the first queued write, drains whatever
//! else is already queued (at most [`MAX_BATCH`]), and runs the whole batch in one `BEGIN
//! IMMEDIATE` transaction, each write inside its own `SAVEPOINT`: a write that fails (a
//! `Conflict`, a `NotFound`, ...) is rolled back to its savepoint alone, the others are kept.
//! One `COMMIT` (one WAL sync) then makes the batch durable, and only after it does each caller
//! get its answer. If the transaction itself fails, every write of the batch that had
//! succeeded is answered `Unavailable`, since none of it reached the disk.
//!
//! The thread never waits for more work to arrive: a lone write is committed at once, and
//! batches grow only when writes queue up behind a commit in progress.
//!
//! When the [`Writer`] is dropped, the channel closes; the thread finishes every write already
//! queued, closes the connection and exits, and the drop waits for it.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use arca_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::db;

/// The most writes committed in one transaction; bounds the latency a batch adds to its
/// first write.
pub(crate) const MAX_BATCH: usize = 256;

const STOPPED: &str = "storage writer has stopped";

/// Counters of the writer's work, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions run (each one group commit).
    pub batches: u64,
    /// Writes run, successful or not.
    pub writes: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    writes: AtomicU64,
}

/// One queued write, type-erased so that writes of every result type share the channel.
trait Job: Send {
    /// Runs the write on the connection, inside the savepoint the writer opened. Returns
    /// whether its changes are to be kept.
    fn run(&mut self, conn: &Connection) -> bool;

    /// Answers the caller once the fate of the batch is known: `Err` carries why the batch's
    /// transaction did not commit.
    fn answer(self: Box<Self>, batch: Result<(), &str>);
}

struct Pending<T, F> {
    op: Option<F>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(op) = self.op.take() else {
            return false;
        };
        let outcome = op(conn);
        let keep = outcome.is_ok();
        self.outcome = Some(outcome);
        keep
    }

    fn answer(self: Box<Self>, batch: Result<(), &str>) {
        let result = match (self.outcome, batch) {
            // A failed write changed nothing, whatever happened to the batch.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(why)) => Err(StoreError::Unavailable(why.to_owned())),
            (None, Ok(())) => Err(StoreError::Unavailable(
                "storage write was not run".to_owned(),
            )),
        };
        // The caller may have stopped waiting (its future was dropped); the write stands.
        let _ = self.reply.send(result);
    }
}

/// Handle to the writer thread.
pub(crate) struct Writer {
    /// `None` once stopped.
    queue: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer thread, which takes ownership of `conn`.
    pub(crate) fn start(conn: Connection) -> StoreResult<Writer> {
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("arca-sqlite-writer".to_owned())
            .spawn(move || writer_loop(&conn, &jobs, &thread_counters))
            .map_err(|_| {
                StoreError::Unavailable("cannot start the storage writer thread".to_owned())
            })?;
        Ok(Writer {
            queue: Mutex::new(Some(queue)),
            thread: Mutex::new(Some(thread)),
            counters,
        })
    }

    /// Queues `op` and returns the receiver of its answer, without waiting.
    pub(crate) fn submit<T, F>(&self, op: F) -> StoreResult<oneshot::Receiver<StoreResult<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            op: Some(op),
            outcome: None,
            reply,
        });
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable(STOPPED.to_owned()))?
            .send(job)
            .map_err(|_| StoreError::Unavailable(STOPPED.to_owned()))?;
        Ok(answer)
    }

    /// Runs `op` in the writer thread and returns its result once it is durable.
    pub(crate) async fn run<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let answer = self.submit(op)?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable(STOPPED.to_owned()))?
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}

impl Writer {
    /// Closes the queue, which lets the thread finish every write already queued and exit, and
    /// waits for it (blocking). Later submissions fail with `Unavailable`. Stopping twice is
    /// harmless.
    pub(crate) fn stop(&self) {
        drop(self.queue.lock().unwrap_or_else(|p| p.into_inner()).take());
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("the sqlite writer thread panicked");
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn writer_loop(conn: &Connection, jobs: &mpsc::Receiver<Box<dyn Job>>, counters: &Counters) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let outcome = run_batch(conn, &mut batch);
        if let Err(why) = &outcome {
            if !conn.is_autocommit() {
                // Best effort: if even the rollback fails, SQLite discards the transaction
                // when the next BEGIN finds it broken, or the connection closes.
                let _ = conn.execute_batch("ROLLBACK");
            }
            tracing::error!(error = %why, writes = batch.len(), "sqlite write batch rolled back");
        }
        let why = outcome.as_ref().err().map(String::as_str);
        for job in batch.drain(..) {
            job.answer(why.map_or(Ok(()), Err));
        }
    }
}

/// Runs one batch in one transaction. `Err` means the transaction did not commit.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    let exec = |sql: &str| -> Result<(), String> {
        conn.prepare_cached(sql)
            .and_then(|mut statement| statement.execute([]))
            .map(|_| ())
            .map_err(|error| db(error).to_string())
    };
    exec("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        exec("SAVEPOINT write")?;
        // A panicking write must not take the writer thread (and every later write) with it:
        // it is treated as a failed write and answered `Unavailable`.
        let keep = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error, ...): the
            // batch's earlier writes are gone too.
            return Err("storage transaction was aborted by the database".to_owned());
        }
        if !keep {
            exec("ROLLBACK TO write")?;
        }
        exec("RELEASE write")?;
    }
    exec("COMMIT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    fn writer() -> (tempfile::TempDir, Writer, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = crate::connection::open_writer(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .unwrap();
        (dir, Writer::start(conn).unwrap(), path)
    }

    fn insert(k: i64) -> impl FnOnce(&Connection) -> StoreResult<i64> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO t VALUES (?1)", [k]).map_err(db)?;
            Ok(k)
        }
    }

    fn keys(path: &std::path::Path) -> Vec<i64> {
        let conn = Connection::open(path).unwrap();
        let mut statement = conn.prepare("SELECT k FROM t ORDER BY k").unwrap();
        let rows = statement.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    /// Submits a write that blocks the writer thread until `release` is sent, and waits until
    /// it is running, so that the writes submitted next all queue up behind it.
    fn block_writer(writer: &Writer) -> (mpsc::Sender<()>, oneshot::Receiver<StoreResult<()>>) {
        let (started_tx, started) = channel::<()>();
        let (release, released) = channel::<()>();
        let answer = writer
            .submit(move |_conn| {
                started_tx.send(()).unwrap();
                released.recv().unwrap();
                Ok(())
            })
            .unwrap();
        started.recv().unwrap();
        (release, answer)
    }

    #[tokio::test]
    async fn queued_writes_share_one_commit() {
        let (_dir, writer, path) = writer();
        let (release, blocker) = block_writer(&writer);
        let answers: Vec<_> = (0..300)
            .map(|k| writer.submit(insert(k)).unwrap())
            .collect();
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        for (k, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap().unwrap(), k as i64);
        }
        // The blocker alone, then 300 queued writes in batches of at most MAX_BATCH.
        assert_eq!(
            writer.stats(),
            WriteStats {
                batches: 3,
                writes: 301
            }
        );
        drop(writer);
        assert_eq!(keys(&path), (0..300).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_failed_write_is_rolled_back_alone() {
        let (_dir, writer, path) = writer();
        let (release, blocker) = block_writer(&writer);
        let first = writer.submit(insert(1)).unwrap();
        // Writes a row, then fails: its row must vanish with its savepoint.
        let failing = writer
            .submit(|conn: &Connection| -> StoreResult<()> {
                conn.execute("INSERT INTO t VALUES (2)", []).map_err(db)?;
                Err(StoreError::Conflict)
            })
            .unwrap();
        // Violates the primary key after the first write: fails at statement level.
        let duplicate = writer.submit(insert(1)).unwrap();
        let last = writer.submit(insert(3)).unwrap();
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert!(matches!(failing.await.unwrap(), Err(StoreError::Conflict)));
        assert!(matches!(
            duplicate.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(last.await.unwrap().unwrap(), 3);
        assert_eq!(writer.stats().batches, 2);
        drop(writer);
        assert_eq!(keys(&path), [1, 3]);
    }

    #[tokio::test]
    async fn an_aborted_transaction_fails_the_whole_batch() {
        let (_dir, writer, path) = writer();
        let (release, blocker) = block_writer(&writer);
        let before = writer.submit(insert(1)).unwrap();
        // Ends the transaction behind the writer's back, as SQLite does on a full disk.
        let aborting = writer
            .submit(|conn: &Connection| -> StoreResult<()> {
                conn.execute_batch("ROLLBACK").map_err(db)
            })
            .unwrap();
        let after = writer.submit(insert(2)).unwrap();
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        assert!(matches!(
            before.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            aborting.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            after.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        // The writer recovers for the next batch.
        assert_eq!(writer.run(insert(5)).await.unwrap(), 5);
        drop(writer);
        assert_eq!(keys(&path), [5]);
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone() {
        let (_dir, writer, path) = writer();
        let (release, blocker) = block_writer(&writer);
        let before = writer.submit(insert(1)).unwrap();
        let panicking = writer
            .submit(|conn: &Connection| -> StoreResult<()> {
                conn.execute("INSERT INTO t VALUES (2)", []).map_err(db)?;
                panic!("a bug in a write");
            })
            .unwrap();
        let after = writer.submit(insert(3)).unwrap();
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        assert_eq!(before.await.unwrap().unwrap(), 1);
        assert!(matches!(
            panicking.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(after.await.unwrap().unwrap(), 3);
        assert_eq!(writer.run(insert(4)).await.unwrap(), 4);
        drop(writer);
        assert_eq!(keys(&path), [1, 3, 4]);
    }

    #[tokio::test]
    async fn drop_finishes_queued_writes() {
        let (_dir, writer, path) = writer();
        let (release, blocker) = block_writer(&writer);
        let answers: Vec<_> = (0..20).map(|k| writer.submit(insert(k)).unwrap()).collect();
        release.send(()).unwrap();
        drop(writer);
        blocker.await.unwrap().unwrap();
        for answer in answers {
            answer.await.unwrap().unwrap();
        }
        assert_eq!(keys(&path), (0..20).collect::<Vec<_>>());
    }
}
