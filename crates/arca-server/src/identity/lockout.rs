//! Slows down and then stops guessing of client secrets, per client id.
//!
//! Failures are counted per client id over a window. From the fourth failure on, each further
//! wrong attempt is answered after a growing delay (0.1 s doubling, at most 1 s); the tenth locks
//! the client id for a minute, during which even the right secret is refused with a clear error.
//! A success clears the count. Other client ids are never affected, and the table is bounded so
//! guessing many client ids cannot exhaust memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long failures are remembered.
pub const WINDOW_SECS: i64 = 300;
/// Failures answered without delay.
pub const FREE_FAILURES: u32 = 3;
/// Failures that lock the client id.
pub const LOCK_AFTER: u32 = 10;
/// How long a lock lasts.
pub const LOCK_SECS: i64 = 60;
/// The longest delay of one answer.
const MAX_DELAY: Duration = Duration::from_secs(1);
/// Most client ids tracked at once.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: i64,
    locked_until: Option<i64>,
}

/// The per-client failure table.
#[derive(Default)]
pub struct Lockout {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Lockout {
    /// Whether the client id is locked at `now` (without counting an attempt).
    pub fn is_locked(&self, client_id: &str, now: i64) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(client_id)
            .and_then(|e| e.locked_until)
            .is_some_and(|until| until > now)
    }

    /// Starts an attempt for `client_id`: `Err(seconds left)` if the client id is locked;
    /// otherwise the attempt is counted before the secret is checked (so guesses sent together
    /// cannot all slip in before the lock), and `Ok(delay)` is how long to wait before answering
    /// if it turns out wrong. A right secret then calls [`Lockout::succeeded`].
    pub fn attempt(&self, client_id: &str, now: i64) -> Result<Duration, i64> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = entries
            .get(client_id)
            .and_then(|e| e.locked_until)
            .filter(|until| *until > now)
        {
            return Err(until - now);
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(client_id) {
            entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now) || now - e.first_failure < WINDOW_SECS
            });
            if entries.len() >= MAX_ENTRIES {
                // Keep locks; forget plain counts.
                entries.retain(|_, e| e.locked_until.is_some_and(|u| u > now));
            }
        }
        let entry = entries.entry(client_id.to_owned()).or_insert(Entry {
            failures: 0,
            first_failure: now,
            locked_until: None,
        });
        let lock_over = entry.locked_until.is_some_and(|u| u <= now);
        if lock_over || now - entry.first_failure >= WINDOW_SECS {
            *entry = Entry {
                failures: 0,
                first_failure: now,
                locked_until: None,
            };
        }
        entry.failures += 1;
        if entry.failures >= LOCK_AFTER {
            entry.locked_until = Some(now + LOCK_SECS);
        }
        Ok(delay_for(entry.failures))
    }

    /// Clears the count after a successful sign-in.
    pub fn succeeded(&self, client_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(client_id);
    }
}

fn delay_for(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let steps = (failures - FREE_FAILURES - 1).min(10);
    Duration::from_millis(100u64 << steps).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_lock_then_expire() {
        let l = Lockout::default();
        let delays: Vec<u128> = (0..LOCK_AFTER)
            .map(|_| l.attempt("a", 100).unwrap().as_millis())
            .collect();
        assert_eq!(delays, [0, 0, 0, 100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(l.attempt("a", 100), Err(LOCK_SECS));
        assert_eq!(
            l.attempt("b", 100),
            Ok(Duration::ZERO),
            "other clients are not affected"
        );
        // After the lock, counting starts afresh.
        assert_eq!(l.attempt("a", 100 + LOCK_SECS), Ok(Duration::ZERO));
        assert_eq!(l.attempt("a", 100 + LOCK_SECS), Ok(Duration::ZERO));
    }

    #[test]
    fn success_and_time_clear_the_count() {
        let l = Lockout::default();
        for _ in 0..5 {
            l.attempt("a", 0).unwrap();
        }
        l.succeeded("a");
        assert_eq!(l.attempt("a", 0), Ok(Duration::ZERO));
        for _ in 0..5 {
            l.attempt("b", 0).unwrap();
        }
        assert_eq!(l.attempt("b", WINDOW_SECS), Ok(Duration::ZERO));
    }
}
