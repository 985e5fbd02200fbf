//! Slows down and then stops guessing of client secrets, per client id and source address, in
//! the manner of Entra ID's smart lockout.
//!
//! Failures are counted per (client id, source) over a window, where the source is the caller's
//! address: IPv4 (IPv4-mapped IPv6 counts as IPv4) or the /64 of an IPv6 address, since one host
//! commonly owns a whole /64. From the fourth failure on, each further wrong attempt is answered
//! after a growing delay (0.1 s doubling, at most 1 s); the tenth locks that client id *for that
//! source* for a minute, during which even the right secret from that source is refused with a
//! clear error. The right secret from any other source still gets a token, so a guesser without
//! credentials cannot lock a principal out. A success clears the count of its pair only.
//!
//! The table is bounded so guessing many client ids cannot exhaust memory. When it is full,
//! entries past their window go first, then the entries of client ids that are no principal's
//! (spraying random client ids therefore cannot reset the counts of real principals), and only
//! then, for an attempt on a real principal, the unlocked entry with the fewest failures.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// How long failures are remembered.
pub const WINDOW_SECS: i64 = 300;
/// Failures answered without delay.
pub const FREE_FAILURES: u32 = 3;
/// Failures that lock the pair.
pub const LOCK_AFTER: u32 = 10;
/// How long a lock lasts.
pub const LOCK_SECS: i64 = 60;
/// The longest delay of one answer.
const MAX_DELAY: Duration = Duration::from_secs(1);
/// Most (client id, source) pairs tracked at once.
pub const MAX_ENTRIES: usize = 10_000;

/// Where failures are counted from: an IPv4 address or an IPv6 /64 (`None`: the caller's
/// address is unknown, as for requests that did not come through the listener).
pub fn source_of(peer: Option<IpAddr>) -> Option<IpAddr> {
    peer.map(|ip| match arca_core::authz::network::canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    client_id: String,
    source: Option<IpAddr>,
}

impl Key {
    fn new(client_id: &str, peer: Option<IpAddr>) -> Self {
        Self {
            client_id: client_id.to_owned(),
            source: source_of(peer),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: i64,
    locked_until: Option<i64>,
}

impl Entry {
    fn locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Neither locked nor within its window: it counts for nothing any more.
    fn stale(&self, now: i64) -> bool {
        !self.locked(now) && now - self.first_failure >= WINDOW_SECS
    }
}

/// The failure table, by (client id, source).
pub struct Lockout {
    entries: Mutex<HashMap<Key, Entry>>,
    capacity: usize,
}

impl Default for Lockout {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl Lockout {
    /// A table of at most `capacity` pairs.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Pairs tracked now.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the client id is locked for callers at `peer` at `now` (without counting an
    /// attempt).
    pub fn is_locked(&self, client_id: &str, peer: Option<IpAddr>, now: i64) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&Key::new(client_id, peer))
            .is_some_and(|e| e.locked(now))
    }

    /// Starts an attempt for `client_id` from `peer`: `Err(seconds left)` if the pair is locked;
    /// otherwise the attempt is counted before the secret is checked (so guesses sent together
    /// cannot all slip in before the lock), and `Ok(delay)` is how long to wait before answering
    /// if it turns out wrong. A right secret then calls [`Lockout::succeeded`].
    ///
    /// `known` lists the client ids of existing principals; it is asked only when the table is
    /// full, to evict the entries of other client ids first.
    pub fn attempt<'k>(
        &self,
        client_id: &str,
        peer: Option<IpAddr>,
        now: i64,
        known: impl FnOnce() -> HashSet<&'k str>,
    ) -> Result<Duration, i64> {
        let key = Key::new(client_id, peer);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = entries
            .get(&key)
            .and_then(|e| e.locked_until)
            .filter(|until| *until > now)
        {
            return Err(until - now);
        }
        if entries.len() >= self.capacity
            && !entries.contains_key(&key)
            && !make_room(&mut entries, self.capacity, &key, now, known)
        {
            // Every entry is worth more than this one: answer it as slowly as possible rather
            // than forget a count that matters.
            return Ok(MAX_DELAY);
        }
        let entry = entries.entry(key).or_insert(Entry {
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

    /// Clears the count of the pair after a successful sign-in.
    pub fn succeeded(&self, client_id: &str, peer: Option<IpAddr>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Key::new(client_id, peer));
    }
}

/// Frees at least one place in a full table for `new`; `false` if nothing may go.
fn make_room<'k>(
    entries: &mut HashMap<Key, Entry>,
    capacity: usize,
    new: &Key,
    now: i64,
    known: impl FnOnce() -> HashSet<&'k str>,
) -> bool {
    entries.retain(|_, e| !e.stale(now));
    if entries.len() < capacity {
        return true;
    }
    let known = known();
    let is_known = |k: &Key| known.contains(k.client_id.as_str());
    // Counts of client ids that are no principal's protect nothing but the uniformity of answers.
    entries.retain(|k, e| is_known(k) || e.locked(now));
    if entries.len() < capacity {
        return true;
    }
    entries.retain(|k, _| is_known(k));
    if entries.len() < capacity {
        return true;
    }
    if !is_known(new) {
        return false;
    }
    // Only real principals' pairs are left: give up the one that counts least.
    let victim = entries
        .iter()
        .filter(|(_, e)| !e.locked(now))
        .min_by_key(|(_, e)| (e.failures, std::cmp::Reverse(e.first_failure)))
        .map(|(k, _)| k.clone());
    match victim {
        Some(victim) => {
            entries.remove(&victim);
            true
        }
        None => false,
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

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7)));

    fn none<'a>() -> HashSet<&'a str> {
        HashSet::new()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn delays_grow_then_lock_then_expire() {
        let l = Lockout::default();
        let delays: Vec<u128> = (0..LOCK_AFTER)
            .map(|_| l.attempt("a", A, 100, none).unwrap().as_millis())
            .collect();
        assert_eq!(delays, [0, 0, 0, 100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(l.attempt("a", A, 100, none), Err(LOCK_SECS));
        assert_eq!(
            l.attempt("b", A, 100, none),
            Ok(Duration::ZERO),
            "other clients are not affected"
        );
        assert_eq!(
            l.attempt("a", B, 100, none),
            Ok(Duration::ZERO),
            "other sources are not affected"
        );
        // After the lock, counting starts afresh.
        assert_eq!(l.attempt("a", A, 100 + LOCK_SECS, none), Ok(Duration::ZERO));
        assert_eq!(l.attempt("a", A, 100 + LOCK_SECS, none), Ok(Duration::ZERO));
    }

    #[test]
    fn success_and_time_clear_the_count_of_one_pair() {
        let l = Lockout::default();
        for _ in 0..5 {
            l.attempt("a", A, 0, none).unwrap();
            l.attempt("a", B, 0, none).unwrap();
        }
        l.succeeded("a", A);
        assert_eq!(l.attempt("a", A, 0, none), Ok(Duration::ZERO));
        assert_eq!(
            l.attempt("a", B, 0, none),
            Ok(Duration::from_millis(400)),
            "a success from one source clears only that source's count"
        );
        for _ in 0..5 {
            l.attempt("b", A, 0, none).unwrap();
        }
        assert_eq!(l.attempt("b", A, WINDOW_SECS, none), Ok(Duration::ZERO));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(source_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(source_of(ip("::ffff:192.0.2.1")), A);
        let l = Lockout::default();
        for i in 0..LOCK_AFTER {
            let peer = ip(&format!("2001:db8:1:2::{:x}", i + 1));
            l.attempt("a", peer, 0, none).unwrap();
        }
        assert!(l.is_locked("a", ip("2001:db8:1:2:ffff::"), 0));
        assert!(!l.is_locked("a", ip("2001:db8:1:3::1"), 0));
        for _ in 0..LOCK_AFTER {
            l.attempt("b", ip("::ffff:192.0.2.1"), 0, none).unwrap();
        }
        assert!(l.is_locked("b", A, 0));
    }

    #[test]
    fn a_full_table_keeps_real_principals_counts() {
        let l = Lockout::with_capacity(100);
        let real = || HashSet::from(["real"]);
        for _ in 0..LOCK_AFTER - 1 {
            l.attempt("real", A, 0, real).unwrap();
        }
        // Spraying random client ids (more than the table holds) from many sources.
        for i in 0..1_000 {
            l.attempt(&format!("random-{i}"), B, 1, real).unwrap();
            assert!(l.len() <= 100);
        }
        assert_eq!(
            l.attempt("real", A, 2, real),
            Ok(MAX_DELAY),
            "the tenth failure must still be counted as such"
        );
        assert!(l.is_locked("real", A, 2));
    }

    #[test]
    fn a_table_full_of_real_principals_drops_the_smallest_count_and_keeps_locks() {
        let l = Lockout::with_capacity(3);
        let known = || HashSet::from(["p", "q", "r"]);
        for _ in 0..LOCK_AFTER {
            l.attempt("p", A, 0, known).unwrap();
        }
        for _ in 0..5 {
            l.attempt("q", A, 0, known).unwrap();
        }
        l.attempt("r", A, 0, known).unwrap();
        // An unknown client id cannot displace any of them.
        assert_eq!(l.attempt("x", A, 0, known), Ok(MAX_DELAY));
        assert_eq!(l.len(), 3);
        // A real one displaces the smallest unlocked count (r's single failure).
        assert_eq!(l.attempt("q", B, 0, known), Ok(Duration::ZERO));
        assert!(l.is_locked("p", A, 0));
        assert_eq!(l.attempt("q", A, 0, known), Ok(Duration::from_millis(400)));
    }
}
