//! The injected clock: the only way the rest of Arca learns the time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

/// A source of the current time in whole Unix seconds, as Key Vault reports timestamps.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch, UTC.
    fn now(&self) -> i64;

    /// Milliseconds since the Unix epoch, UTC, for durations shorter than a second (storage
    /// leases). By default [`Clock::now`] in milliseconds.
    fn now_millis(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one sanctioned reading of the wall clock.
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs() as i64
    }

    #[allow(clippy::disallowed_methods)] // The same sanctioned reading, in milliseconds.
    fn now_millis(&self) -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(now: i64) -> Self {
        Self(AtomicI64::new(now))
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
