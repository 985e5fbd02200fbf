//! The counting of one vault's budgets, with no clock and no locking of its own (the caller
//! passes the time in milliseconds and holds the vault's lock): a two-window sliding estimate
//! per bucket, and per caller, so that one noisy principal cannot starve another.
//!
//! Each bucket counts the units admitted in the current 10-second window and in the previous
//! one. The estimate of the last 10 seconds is `current + previous × (unelapsed part of the
//! current window)`, as a sliding window would count if the previous window's requests were
//! spread evenly: there is no double burst at a window edge, and it costs two counters. A request
//! is admitted when the estimate plus its weight stays within the limit; a refused request
//! counts nothing.
//!
//! Fairness: once a bucket is more than half used, a caller whose own estimate (plus the
//! request) would exceed its fair share, `limit / active callers` (at least a sixteenth of the
//! limit, and at least the request's weight), is refused even though budget remains, so the rest
//! stays for the others. A caller is active while it asked (admitted or not) in the current or
//! the previous window; refused callers count as active, so a starved caller claims its share.

use std::collections::HashMap;

use arca_core::throttle::{Bucket, WINDOW_MS};

/// Most callers tracked per bucket; past it a new caller is counted in the bucket only.
const MAX_CALLERS: usize = 10_000;
/// A caller's fair share is never below this fraction of the limit.
const FAIR_SHARE_FLOOR_DIVISOR: u64 = 16;

/// Two windows of counts.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    current: u64,
    previous: u64,
}

impl Counts {
    /// The estimate of the last window, times [`WINDOW_MS`] (exact integer arithmetic) at
    /// `elapsed` milliseconds into the current window.
    fn scaled(&self, elapsed: u64) -> u64 {
        self.current * WINDOW_MS + self.previous * (WINDOW_MS - elapsed)
    }

    /// Moves on by `windows` windows.
    fn advance(&mut self, windows: u64) {
        match windows {
            0 => {}
            1 => {
                self.previous = self.current;
                self.current = 0;
            }
            _ => *self = Counts::default(),
        }
    }

    /// Milliseconds from `elapsed` until the estimate leaves room for `weight` under `limit`
    /// (at least 1), assuming nothing more is admitted.
    fn wait(&self, elapsed: u64, limit: u64, weight: u64) -> u64 {
        let allowed = limit.saturating_sub(weight);
        if self.current <= allowed {
            if self.previous == 0 {
                return 1;
            }
            // current·W + previous·(W − t) ≤ allowed·W  ⇔  t ≥ W − (allowed − current)·W / previous
            let room = (allowed - self.current) * WINDOW_MS / self.previous;
            let at = WINDOW_MS - room.min(WINDOW_MS);
            return at.saturating_sub(elapsed).max(1);
        }
        // Not within this window: in the next, `current` becomes the previous count.
        let room = allowed * WINDOW_MS / self.current;
        (WINDOW_MS - elapsed) + (WINDOW_MS - room.min(WINDOW_MS))
    }
}

/// One bucket's counts, in all and per caller.
#[derive(Debug, Default)]
struct BucketState {
    total: Counts,
    /// Callers that asked in the current or the previous window.
    callers: HashMap<Box<str>, Counts>,
}

/// Why a request was refused, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub bucket: Bucket,
    /// Whether the caller's fair share (rather than the vault's whole limit) refused it.
    pub fair_share: bool,
    /// Whole seconds until enough budget frees, never 0.
    pub retry_after: u32,
}

/// All buckets of one vault.
#[derive(Debug)]
pub(crate) struct VaultWindows {
    /// Start of the current window, in milliseconds, a multiple of [`WINDOW_MS`].
    window_start: u64,
    buckets: [BucketState; 4],
}

impl VaultWindows {
    pub(crate) fn new(now: u64) -> Self {
        VaultWindows {
            window_start: now - now % WINDOW_MS,
            buckets: Default::default(),
        }
    }

    /// Moves the windows up to `now`, forgetting callers that asked in neither window.
    fn advance(&mut self, now: u64) -> u64 {
        let start = now - now % WINDOW_MS;
        if start > self.window_start {
            let windows = (start - self.window_start) / WINDOW_MS;
            for bucket in &mut self.buckets {
                bucket.total.advance(windows);
                bucket.callers.retain(|_, c| {
                    c.advance(windows);
                    // A caller that asked this window has an entry with a zero count until it
                    // is admitted; one that asked last window still holds a previous count or
                    // is dropped here, which only forgets that it was refused last window.
                    c.previous > 0
                });
            }
            self.window_start = start;
        }
        now.saturating_sub(self.window_start).min(WINDOW_MS - 1)
    }

    /// Admits `weight` units of `bucket` for `caller` under `limit`, or refuses (counting
    /// nothing but the caller's having asked).
    pub(crate) fn admit(
        &mut self,
        now: u64,
        bucket: Bucket,
        caller: &str,
        weight: u32,
        limit: u32,
    ) -> Result<(), Refusal> {
        let elapsed = self.advance(now);
        let limit = u64::from(limit.max(1));
        // A request heavier than the whole limit could never pass: it takes the whole limit.
        let weight = u64::from(weight.max(1)).min(limit);
        let state = &mut self.buckets[bucket.index()];
        if !state.callers.contains_key(caller) && state.callers.len() < MAX_CALLERS {
            state.callers.insert(caller.into(), Counts::default());
        }
        let used = state.total.scaled(elapsed);
        let refuse = |counts: &Counts, limit: u64, fair_share: bool| Refusal {
            bucket,
            fair_share,
            retry_after: seconds(counts.wait(elapsed, limit, weight)),
        };
        if used + weight * WINDOW_MS > limit * WINDOW_MS {
            return Err(refuse(&state.total, limit, false));
        }
        let active = state.callers.len().max(1) as u64;
        if let Some(mine) = state.callers.get(caller) {
            if used * 2 > limit * WINDOW_MS && active > 1 {
                let fair = (limit.div_ceil(active))
                    .max(limit / FAIR_SHARE_FLOOR_DIVISOR)
                    .max(weight);
                if mine.scaled(elapsed) + weight * WINDOW_MS > fair * WINDOW_MS {
                    return Err(refuse(mine, fair, true));
                }
            }
        }
        state.total.current += weight;
        if let Some(mine) = state.callers.get_mut(caller) {
            mine.current += weight;
        }
        Ok(())
    }

    /// Adds `extra` units to what `caller` already drew from `bucket`, without a check: the
    /// rest of the weight of a request admitted before its weight was known.
    pub(crate) fn charge(&mut self, now: u64, bucket: Bucket, caller: &str, extra: u32) {
        self.advance(now);
        let state = &mut self.buckets[bucket.index()];
        state.total.current += u64::from(extra);
        if let Some(mine) = state.callers.get_mut(caller) {
            mine.current += u64::from(extra);
        }
    }
}

/// Whole seconds covering `ms`, at least 1.
fn seconds(ms: u64) -> u32 {
    u32::try_from(ms.div_ceil(1000).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Bucket = Bucket::SecretCreate;

    /// Admits as many requests of `caller` as pass at `now`; returns the count and the refusal.
    fn fill(w: &mut VaultWindows, now: u64, caller: &str, limit: u32) -> (u32, Refusal) {
        let mut n = 0;
        loop {
            match w.admit(now, S, caller, 1, limit) {
                Ok(()) => n += 1,
                Err(r) => return (n, r),
            }
        }
    }

    #[test]
    fn a_window_admits_its_limit_and_refusals_do_not_count() {
        let mut w = VaultWindows::new(0);
        let (n, refusal) = fill(&mut w, 1_000, "a", 300);
        assert_eq!(n, 300);
        assert_eq!(refusal.bucket, S);
        assert!(!refusal.fair_share);
        // Many refusals later, the count is still 300: once the window has slid past those 300,
        // all 300 are admitted again.
        for _ in 0..1000 {
            assert!(w.admit(1_500, S, "a", 1, 300).is_err());
        }
        let (n, _) = fill(&mut w, 21_000, "a", 300);
        assert_eq!(n, 300);
    }

    #[test]
    fn the_window_slides_without_a_double_burst_at_its_edge() {
        let mut w = VaultWindows::new(0);
        // 300 admitted late in the first window...
        assert_eq!(fill(&mut w, 9_900, "a", 300).0, 300);
        // ...just after the edge, the estimate still counts almost all of them.
        assert_eq!(fill(&mut w, 10_100, "a", 300).0, 3);
        // Half way through the next window, half of them have slid out.
        let (n, _) = fill(&mut w, 15_000, "a", 300);
        assert_eq!(n, 147, "150 freed, 3 already used");
        // Other buckets are untouched.
        assert!(w.admit(15_000, Bucket::SecretOther, "a", 1, 4_000).is_ok());
    }

    #[test]
    fn retry_after_is_the_time_until_budget_frees_in_whole_seconds() {
        let mut w = VaultWindows::new(0);
        let (_, r) = fill(&mut w, 2_000, "a", 300);
        // All 300 in the current window: none frees before the next window starts (8 s away),
        // and the first unit frees 1/300 of a window into it.
        assert_eq!(r.retry_after, 9);
        let (_, r) = fill(&mut w, 10_500, "a", 300);
        // 300 previous: one unit frees when 1/300 of the window (34 ms) has passed: 1 s.
        assert_eq!(r.retry_after, 1);
        assert!(w.admit(10_540, S, "a", 1, 300).is_ok());
        // Retry-After is never 0.
        assert_eq!(seconds(0), 1);
        assert_eq!(seconds(1), 1);
        assert_eq!(seconds(1_001), 2);
        // Waiting that long admits the request.
        let mut w = VaultWindows::new(0);
        let (_, r) = fill(&mut w, 3_000, "a", 3);
        let later = 3_000 + u64::from(r.retry_after) * 1000;
        assert!(w.admit(later, S, "a", 1, 3).is_ok());
    }

    #[test]
    fn weights_count_as_that_many_units() {
        let mut w = VaultWindows::new(0);
        let k = Bucket::KeyOther;
        // RSA-4096 HSM operations weigh 16: 250 of them in 4,000 units.
        let mut n = 0;
        while w.admit(100, k, "a", 16, 4_000).is_ok() {
            n += 1;
        }
        assert_eq!(n, 250);
        // A weight larger than the limit takes the whole limit rather than never passing.
        let mut w = VaultWindows::new(0);
        assert!(w.admit(100, Bucket::KeyCreate, "a", 2, 1).is_ok());
        assert!(w.admit(100, Bucket::KeyCreate, "a", 2, 1).is_err());
        // A charge after admission counts against what follows.
        let mut w = VaultWindows::new(0);
        assert!(w.admit(100, k, "a", 1, 10).is_ok());
        w.charge(100, k, "a", 7);
        assert!(w.admit(100, k, "a", 2, 10).is_ok());
        assert!(w.admit(100, k, "a", 1, 10).is_err());
    }

    #[test]
    fn a_noisy_caller_cannot_starve_another() {
        let mut w = VaultWindows::new(0);
        // Alone, a caller may use the whole limit.
        assert_eq!(fill(&mut w, 1_000, "noisy", 100).0, 100);
        // Another caller asks and is refused: the vault is full.
        let refused = w.admit(1_000, S, "quiet", 1, 100).unwrap_err();
        assert!(!refused.fair_share);
        // As the window slides, the freed budget goes to the quiet caller: the noisy one holds
        // more than its fair share (100 / 2 active) while the bucket is over half used.
        let mut quiet = 0;
        let mut noisy = 0;
        for step in 0..100u64 {
            let now = 10_000 + step * 100;
            if w.admit(now, S, "noisy", 1, 100).is_ok() {
                noisy += 1;
            }
            if w.admit(now, S, "quiet", 1, 100).is_ok() {
                quiet += 1;
            }
        }
        assert!(quiet >= 45, "quiet {quiet} noisy {noisy}");
        assert!(noisy <= 55, "quiet {quiet} noisy {noisy}");
        // Over its share with budget left, the noisy caller is refused for fairness.
        let mut w = VaultWindows::new(0);
        assert!(w.admit(0, S, "quiet", 1, 100).is_ok());
        let (n, refusal) = fill(&mut w, 0, "noisy", 100);
        assert_eq!(n, 50);
        assert!(refusal.fair_share);
        assert!(refusal.retry_after >= 1);
    }

    #[test]
    fn below_half_the_limit_fairness_does_not_apply() {
        let mut w = VaultWindows::new(0);
        assert!(w.admit(0, S, "quiet", 1, 100).is_ok());
        // Up to half the limit, one caller may take more than its share.
        assert_eq!(
            (0..60)
                .filter(|_| w.admit(0, S, "noisy", 1, 100).is_ok())
                .count(),
            50,
            "admitted to its fair share (50) once the bucket passed half"
        );
        // The other caller still gets through.
        assert!(w.admit(0, S, "quiet", 1, 100).is_ok());
    }

    #[test]
    fn idle_callers_are_forgotten() {
        let mut w = VaultWindows::new(0);
        assert!(w.admit(0, S, "a", 1, 10).is_ok());
        assert!(w.admit(0, S, "b", 1, 10).is_ok());
        assert_eq!(w.buckets[S.index()].callers.len(), 2);
        assert!(w.admit(10_000, S, "a", 1, 10).is_ok());
        assert_eq!(w.buckets[S.index()].callers.len(), 2, "b asked last window");
        assert!(w.admit(20_000, S, "a", 1, 10).is_ok());
        assert_eq!(w.buckets[S.index()].callers.len(), 1, "b forgotten");
        assert!(w.admit(60_000, S, "c", 1, 10).is_ok());
        assert_eq!(w.buckets[S.index()].callers.len(), 1);
    }
}
