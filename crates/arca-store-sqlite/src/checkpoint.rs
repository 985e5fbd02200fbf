//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so one
//! group commit in a thousand pages would pay for copying the WAL into the database and syncing
//! it: a latency spike for every write of that batch. Here a thread of its own runs a passive
//! checkpoint (which never waits for readers or the writer) twice a second instead, and the
//! writer's automatic checkpoint is only a far-off safety net should this thread fall behind.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use arca_store::{StoreError, StoreResult};

use crate::connection::open_writer;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(500);
/// The writer's own automatic checkpoint threshold, in pages: a safety net only.
pub(crate) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 20_000;

/// The checkpoint thread; stopped (and joined) on drop.
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = open_writer(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("arca-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    // Busy (another checkpoint or a lock held elsewhere) just means next time.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "wal checkpoint skipped");
                    }
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let writer = open_writer(&path).unwrap();
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x BLOB);")
            .unwrap();
        for _ in 0..200 {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(4000))", [])
                .unwrap();
        }
        let wal_frames_to_copy = |conn: &rusqlite::Connection| -> i64 {
            // (busy, log frames, checkpointed frames) of a no-op passive checkpoint.
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok(r.get::<_, i64>(1)? - r.get::<_, i64>(2)?)
            })
            .unwrap()
        };
        let checkpointer = Checkpointer::start(&path).unwrap();
        std::thread::sleep(INTERVAL * 3);
        drop(checkpointer);
        assert_eq!(wal_frames_to_copy(&writer), 0);
    }
}
