//! The connection registry: every client connection from accept to close, with its source
//! address, its requests in flight and its last activity, so that the listener can cap
//! connections (in total and per source address), close idle ones, and drain on shutdown.
//!
//! At a cap, a new connection takes the place of an idle one (no request in flight): first the
//! oldest connection that never began a request (a flood of silent sockets), otherwise the one
//! idle the longest. When every connection is busy, the new one is refused. Admission is a short
//! critical section with no I/O, so the accept loop never waits on a connection. This module
//! knows nothing of TLS or HTTP: the listener tells it when requests begin and end.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The most connections any configuration may allow.
pub const MAX_CONNECTIONS_CEILING: u32 = 1_000_000;
/// The smallest connection cap that makes sense.
pub const MIN_CONNECTIONS: u32 = 16;

/// The caps and the idle timeout the listener enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once, not counting those being closed.
    pub max_connections: u32,
    /// Most connections open at once from one [`Source`].
    pub max_per_source: u32,
    /// How long a connection may stay open with no request in flight, counted from accept and
    /// from the end of its last request.
    pub idle_timeout: Duration,
}

impl Limits {
    /// Most connections told to close that may still hold their descriptor; beyond this, a
    /// connection that would need an eviction is refused instead.
    pub fn closing_allowance(&self) -> u32 {
        closing_allowance(self.max_connections)
    }

    /// Limits under the descriptor limit `descriptors`: `max_connections` when configured (an
    /// error naming the largest that fits when it does not fit), otherwise the largest that fits.
    pub fn for_descriptors(
        descriptors: u64,
        max_connections: Option<u32>,
        max_per_source: u32,
        idle_timeout: Duration,
    ) -> Result<Limits, String> {
        let fitting = fitting_cap(descriptors);
        let max_connections = match (max_connections, fitting) {
            (Some(wanted), Some(most)) if wanted <= most => wanted,
            (Some(wanted), _) => {
                return Err(format!(
                    "max_connections {wanted} does not fit under this process's open-files limit \
                     of {descriptors} ({} descriptors are kept for the database, logs and \
                     outbound requests, and {} for connections being closed); the most that fits \
                     is {}; raise the limit (ulimit -n, LimitNOFILE=) or lower max_connections",
                    reserved_descriptors(descriptors),
                    closing_allowance(wanted),
                    fitting.map_or_else(|| "none".to_owned(), |m| m.to_string()),
                ))
            }
            (None, Some(most)) => most,
            (None, None) => {
                return Err(format!(
                    "the open-files limit of {descriptors} is too low to serve connections; \
                     raise it (ulimit -n, LimitNOFILE=)"
                ))
            }
        };
        Ok(Limits {
            max_connections,
            max_per_source: max_per_source.min(max_connections),
            idle_timeout,
        })
    }
}

/// Descriptors kept back from client connections for everything else the process opens: the
/// database files (the writer and each pooled reader hold the database, its WAL and its shared
/// memory), the runtime, standard streams and outbound requests such as JWKS fetches.
pub fn reserved_descriptors(descriptors: u64) -> u64 {
    (64 + descriptors / 16).min(1024)
}

fn closing_allowance(max_connections: u32) -> u32 {
    (max_connections / 64).max(16)
}

/// The largest connection cap whose connections, plus those allowed to be closing, fit under
/// `descriptors` with the reserve; `None` when not even [`MIN_CONNECTIONS`] fit.
pub fn fitting_cap(descriptors: u64) -> Option<u32> {
    let budget = descriptors.saturating_sub(reserved_descriptors(descriptors));
    let fits = |cap: u32| u64::from(cap) + u64::from(closing_allowance(cap)) <= budget;
    // Binary search for the largest cap that fits (the descriptors needed grow with the cap).
    let (mut low, mut high) = (0u32, MAX_CONNECTIONS_CEILING);
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    (low >= MIN_CONNECTIONS && fits(low)).then_some(low)
}

/// The address a per-source cap counts against: an IPv4 address (also when it reaches a
/// dual-stack socket as IPv4-mapped IPv6), or the /64 of an IPv6 address, since one host is
/// usually given a whole /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(addr: IpAddr) -> Source {
        match crate::access::network::canonical(addr) {
            IpAddr::V6(v6) => Source(IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & !u128::from(u64::MAX),
            ))),
            v4 => Source(v4),
        }
    }
}

/// Why a connection was told to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// It was idle for the idle timeout.
    Idle,
    /// A new connection took its place at a cap.
    Evicted,
    /// The server is shutting down.
    Shutdown,
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its source is at the per-source cap and none of that source's connections is idle.
    SourceAtCap,
    /// The server is at the total cap and no connection is idle.
    AtCap,
    /// Too many connections are still being closed to evict another.
    TooManyClosing,
    /// The server is shutting down.
    ShuttingDown,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::SourceAtCap => "the source address is at max_connections_per_ip and none of its connections is idle",
            Refused::AtCap => "the server is at max_connections and no connection is idle",
            Refused::TooManyClosing => "too many evicted connections are still closing",
            Refused::ShuttingDown => "the server is shutting down",
        }
    }
}

const REASON_NONE: u8 = 0;
const REASON_EVICTED: u8 = 1;
const REASON_SHUTDOWN: u8 = 2;

/// One connection's shared state: read by the registry, written by its requests.
pub struct Conn {
    id: u64,
    source: Source,
    epoch: Instant,
    in_flight: AtomicU32,
    began_a_request: AtomicBool,
    /// Milliseconds from the registry's epoch to the last accept, request start or request end.
    last_active_ms: AtomicU64,
    reason: AtomicU8,
    close: Notify,
}

impl Conn {
    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    fn touch(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::SeqCst);
    }

    fn last_active(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_active_ms.load(Ordering::SeqCst))
    }

    /// Requests begun and not yet finished (their response not yet sent in full).
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::SeqCst)
    }

    fn is_idle(&self) -> bool {
        self.in_flight() == 0
    }

    fn tell_to_close(&self, reason: u8) {
        let _ =
            self.reason
                .compare_exchange(REASON_NONE, reason, Ordering::SeqCst, Ordering::SeqCst);
        self.close.notify_one();
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A request in flight on a connection; ending it (dropping it) marks the connection active now.
pub struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        // Activity first, so whoever sees no request in flight also sees the latest activity.
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An admitted connection's place in the registry; dropping it (when the socket is closed)
/// gives the place back.
pub struct Ticket {
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Ticket {
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.release(&self.conn);
    }
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Open connections not told to close by eviction, by id (ids grow with accept order).
    live: HashMap<u64, Arc<Conn>>,
    /// Live connections that never began a request, oldest first.
    unstarted: BTreeSet<u64>,
    /// Live connections by source, oldest first.
    by_source: HashMap<Source, BTreeSet<u64>>,
    /// Evicted connections whose task has not yet closed the socket.
    closing: u32,
    shutting_down: bool,
}

impl Inner {
    /// The connection to evict for a newcomer: the oldest live one that never began a request,
    /// otherwise the idle one with the oldest activity; `None` when all are busy.
    fn victim(&self) -> Option<u64> {
        let conns = &self.live;
        self.unstarted
            .iter()
            .copied()
            .find(|id| conns.get(id).is_some_and(|c| c.is_idle()))
            .or_else(|| {
                conns
                    .values()
                    .filter(|c| c.is_idle())
                    .min_by_key(|c| (c.last_active_ms.load(Ordering::SeqCst), c.id))
                    .map(|c| c.id)
            })
    }

    /// Likewise among the connections of one source.
    fn victim_from(&self, source: Source) -> Option<u64> {
        let ids = self.by_source.get(&source)?;
        let idle = |id: &u64| self.live.get(id).filter(|c| c.is_idle());
        ids.iter()
            .copied()
            .find(|id| self.unstarted.contains(id) && idle(id).is_some())
            .or_else(|| {
                ids.iter()
                    .filter_map(idle)
                    .min_by_key(|c| (c.last_active_ms.load(Ordering::SeqCst), c.id))
                    .map(|c| c.id)
            })
    }

    fn forget(&mut self, id: u64) -> Option<Arc<Conn>> {
        let conn = self.live.remove(&id)?;
        self.unstarted.remove(&id);
        if let Some(ids) = self.by_source.get_mut(&conn.source) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_source.remove(&conn.source);
            }
        }
        Some(conn)
    }

    fn evict(&mut self, id: u64) {
        if let Some(conn) = self.forget(id) {
            self.closing += 1;
            conn.tell_to_close(REASON_EVICTED);
        }
    }
}

/// The connections of one listener.
pub struct Registry {
    limits: Limits,
    epoch: Instant,
    inner: Mutex<Inner>,
    emptied: Notify,
    /// Notified whenever an evicted connection has closed its socket.
    evicted_closed: Notify,
}

impl Registry {
    pub fn new(limits: Limits) -> Arc<Registry> {
        Arc::new(Registry {
            limits,
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
            emptied: Notify::new(),
            evicted_closed: Notify::new(),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The critical sections cannot leave the maps inconsistent halfway, so a panic elsewhere
        // while holding the lock does not make the data unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection from `peer`, evicting an idle one when a cap is reached.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Ticket, Refused> {
        let source = Source::of(peer);
        let mut inner = self.lock();
        if inner.shutting_down {
            return Err(Refused::ShuttingDown);
        }
        let from_source = inner.by_source.get(&source).map_or(0, BTreeSet::len);
        let source_full = from_source >= self.limits.max_per_source as usize;
        let full = inner.live.len() >= self.limits.max_connections as usize;
        if source_full || full {
            if inner.closing >= self.limits.closing_allowance() {
                return Err(Refused::TooManyClosing);
            }
            // Evicting within the source also frees a place in the total.
            let (victim, refused) = if source_full {
                (inner.victim_from(source), Refused::SourceAtCap)
            } else {
                (inner.victim(), Refused::AtCap)
            };
            match victim {
                Some(id) => inner.evict(id),
                None => return Err(refused),
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let conn = Arc::new(Conn {
            id,
            source,
            epoch: self.epoch,
            in_flight: AtomicU32::new(0),
            began_a_request: AtomicBool::new(false),
            last_active_ms: AtomicU64::new(millis(self.epoch.elapsed())),
            reason: AtomicU8::new(REASON_NONE),
            close: Notify::new(),
        });
        inner.live.insert(id, conn.clone());
        inner.unstarted.insert(id);
        inner.by_source.entry(source).or_default().insert(id);
        Ok(Ticket {
            registry: self.clone(),
            conn,
        })
    }

    /// Like [`Registry::admit`], but when too many evicted connections are still closing, waits
    /// up to `patience` for them to close: at a cap, admission goes no faster than evicted
    /// connections give back their descriptors. (Idle connections close as soon as their task
    /// runs, so this waits only through a burst of accepts.)
    pub async fn admit_within(
        self: &Arc<Self>,
        peer: IpAddr,
        patience: Duration,
    ) -> Result<Ticket, Refused> {
        let deadline = Instant::now() + patience;
        loop {
            let closed = self.evicted_closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            match self.admit(peer) {
                Err(Refused::TooManyClosing) => {
                    if tokio::time::timeout_at(deadline, closed).await.is_err() {
                        return Err(Refused::TooManyClosing);
                    }
                }
                admitted => return admitted,
            }
        }
    }

    /// Marks a request begun on `conn`; it ends when the returned guard is dropped.
    pub fn begin(&self, conn: &Arc<Conn>) -> InFlight {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        conn.touch();
        if !conn.began_a_request.swap(true, Ordering::SeqCst) {
            self.lock().unstarted.remove(&conn.id);
        }
        InFlight(conn.clone())
    }

    /// Completes when `conn` should close: told to by eviction or shutdown, or idle (no request
    /// in flight) for the idle timeout.
    pub async fn until_close(&self, conn: &Conn) -> CloseReason {
        let idle = self.limits.idle_timeout;
        loop {
            let now = Instant::now();
            // While a request is in flight the connection is not idle; look again later.
            let deadline = if conn.is_idle() {
                conn.last_active() + idle
            } else {
                now + idle
            };
            if deadline <= now && conn.is_idle() {
                return CloseReason::Idle;
            }
            tokio::select! {
                () = conn.close.notified() => {
                    return match conn.reason.load(Ordering::SeqCst) {
                        REASON_SHUTDOWN => CloseReason::Shutdown,
                        _ => CloseReason::Evicted,
                    };
                }
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Tells every connection to close, and admits no more.
    pub fn close_all(&self) {
        let mut inner = self.lock();
        inner.shutting_down = true;
        for conn in inner.live.values() {
            conn.tell_to_close(REASON_SHUTDOWN);
        }
    }

    /// Completes when no connection is left (live or closing).
    pub async fn drained(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.counts() == (0, 0) {
                return;
            }
            emptied.await;
        }
    }

    /// Live connections and evicted ones still closing.
    pub fn counts(&self) -> (usize, u32) {
        let inner = self.lock();
        (inner.live.len(), inner.closing)
    }

    fn release(&self, conn: &Conn) {
        let mut inner = self.lock();
        if inner.forget(conn.id).is_none() {
            inner.closing = inner.closing.saturating_sub(1);
            self.evicted_closed.notify_waiters();
        }
        if inner.live.is_empty() && inner.closing == 0 {
            self.emptied.notify_waiters();
        }
    }
}

/// A warning logged at most once per period, with the number of times it was held back.
#[derive(Debug)]
pub struct RateLimited {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    pub fn new(period: Duration) -> RateLimited {
        RateLimited {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when the warning should be logged now, `n` being how many were held back since
    /// it last was; `None` when it should be held back.
    pub fn check(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: u32, per_source: u32) -> Limits {
        Limits {
            max_connections: total,
            max_per_source: per_source,
            idle_timeout: Duration::from_secs(60),
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn closed(ticket: &Ticket) -> bool {
        ticket.conn.reason.load(Ordering::SeqCst) != REASON_NONE
    }

    #[test]
    fn sources_are_ipv4_addresses_and_ipv6_slash_64s() {
        assert_eq!(
            Source::of(ip("::ffff:10.0.0.1")),
            Source::of(ip("10.0.0.1"))
        );
        assert_ne!(Source::of(ip("10.0.0.1")), Source::of(ip("10.0.0.2")));
        assert_eq!(
            Source::of(ip("2001:db8:1:2:aaaa::1")),
            Source::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn the_cap_fits_under_the_descriptor_limit_with_the_reserve() {
        for descriptors in [128, 256, 1024, 4096, 20_000, 65_536, 1_048_576] {
            let cap = fitting_cap(descriptors).unwrap();
            let used = u64::from(cap)
                + u64::from(closing_allowance(cap))
                + reserved_descriptors(descriptors);
            assert!(used <= descriptors, "{descriptors}: {cap} uses {used}");
            // And it is not needlessly small.
            assert!(
                used + 64 >= descriptors || cap == MAX_CONNECTIONS_CEILING,
                "{descriptors}: {cap} leaves descriptors unused"
            );
        }
        assert_eq!(fitting_cap(80), None);
        assert_eq!(fitting_cap(1 << 40), Some(MAX_CONNECTIONS_CEILING));
    }

    #[test]
    fn a_configured_cap_must_fit() {
        let idle = Duration::from_secs(60);
        let l = Limits::for_descriptors(1024, None, 4096, idle).unwrap();
        assert_eq!(Some(l.max_connections), fitting_cap(1024));
        assert_eq!(l.max_per_source, l.max_connections);
        let l = Limits::for_descriptors(1024, Some(500), 100, idle).unwrap();
        assert_eq!((l.max_connections, l.max_per_source), (500, 100));
        let err = Limits::for_descriptors(1024, Some(1000), 100, idle).unwrap_err();
        assert!(
            err.contains("max_connections 1000") && err.contains("1024"),
            "{err}"
        );
        assert!(Limits::for_descriptors(40, None, 100, idle).is_err());
    }

    #[tokio::test]
    async fn the_per_source_cap_evicts_that_sources_oldest_idle_connection() {
        let registry = Registry::new(limits(100, 3));
        let other = registry.admit(ip("10.0.0.9")).unwrap();
        let a: Vec<_> = (0..3)
            .map(|_| registry.admit(ip("10.0.0.1")).unwrap())
            .collect();
        // Busy connections are not evicted: the first has a request in flight.
        let _busy = registry.begin(&a[0].conn);
        let d = registry.admit(ip("::ffff:10.0.0.1")).unwrap();
        assert!(!closed(&a[0]) && closed(&a[1]) && !closed(&a[2]) && !closed(&other));
        assert_eq!(registry.counts(), (4, 1));
        drop(a);
        assert_eq!(registry.counts(), (2, 0));
        drop((d, other));
        assert_eq!(registry.counts(), (0, 0));
    }

    #[tokio::test]
    async fn an_ipv6_slash_64_is_one_source() {
        let registry = Registry::new(limits(100, 2));
        let a = registry.admit(ip("2001:db8::1")).unwrap();
        let _b = registry.admit(ip("2001:db8::2")).unwrap();
        let _c = registry.admit(ip("2001:db8:0:1::1")).unwrap();
        let _d = registry.admit(ip("2001:db8::3")).unwrap();
        assert!(closed(&a));
    }

    #[tokio::test(start_paused = true)]
    async fn the_total_cap_evicts_silent_connections_first_then_the_longest_idle() {
        let registry = Registry::new(limits(3, 3));
        let served_long_ago = registry.admit(ip("10.0.0.1")).unwrap();
        drop(registry.begin(&served_long_ago.conn));
        tokio::time::advance(Duration::from_secs(5)).await;
        let served_recently = registry.admit(ip("10.0.0.2")).unwrap();
        let silent = registry.admit(ip("10.0.0.3")).unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(registry.begin(&served_recently.conn));

        // The silent one goes first, although it is the newest.
        let _n1 = registry.admit(ip("10.0.0.4")).unwrap();
        assert!(closed(&silent) && !closed(&served_long_ago) && !closed(&served_recently));
        // Then the one whose last request ended longest ago... but not the newcomer, which has
        // not begun a request yet and so is the next silent one.
        let n1_id = _n1.conn.id;
        let _busy = registry.begin(&_n1.conn);
        let _n2 = registry.admit(ip("10.0.0.5")).unwrap();
        assert!(closed(&served_long_ago) && !closed(&served_recently));
        assert!(registry.lock().live.contains_key(&n1_id));
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_newcomers_are_refused() {
        let registry = Registry::new(limits(16, 16));
        let tickets: Vec<_> = (0..16)
            .map(|i| registry.admit(IpAddr::from([10, 0, 0, i])).unwrap())
            .collect();
        let _busy: Vec<_> = tickets.iter().map(|t| registry.begin(&t.conn)).collect();
        assert_eq!(registry.admit(ip("10.0.1.1")).err(), Some(Refused::AtCap));
        let registry = Registry::new(limits(16, 1));
        let t = registry.admit(ip("10.0.0.1")).unwrap();
        let _busy = registry.begin(&t.conn);
        assert_eq!(
            registry.admit(ip("10.0.0.1")).err(),
            Some(Refused::SourceAtCap)
        );
        assert!(registry.admit(ip("10.0.0.2")).is_ok());
    }

    #[tokio::test]
    async fn evicted_connections_still_closing_are_bounded() {
        let registry = Registry::new(limits(16, 16));
        let mut kept = Vec::new();
        for i in 0..16 {
            kept.push(registry.admit(IpAddr::from([10, 0, 0, i])).unwrap());
        }
        // Each newcomer evicts one; none of the evicted has closed its socket yet.
        for i in 0..16 {
            kept.push(registry.admit(IpAddr::from([10, 0, 1, i])).unwrap());
        }
        assert_eq!(registry.counts(), (16, 16));
        assert_eq!(
            registry.admit(ip("10.0.2.1")).err(),
            Some(Refused::TooManyClosing)
        );
        kept.remove(0);
        kept.push(registry.admit(ip("10.0.2.1")).unwrap());
        assert_eq!(registry.counts(), (16, 16));
        // A newcomer waits for an evicted connection to close rather than being refused.
        let waiting = tokio::spawn({
            let registry = registry.clone();
            async move {
                registry
                    .admit_within(ip("10.0.2.2"), Duration::from_secs(3600))
                    .await
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        kept.remove(0);
        kept.push(waiting.await.unwrap().unwrap());
        assert_eq!(registry.counts(), (16, 16));
        let patience = Duration::from_millis(1);
        assert_eq!(
            registry.admit_within(ip("10.0.2.3"), patience).await.err(),
            Some(Refused::TooManyClosing)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_is_counted_from_accept_and_from_the_end_of_the_last_request() {
        let registry = Registry::new(limits(16, 16));
        let t = registry.admit(ip("10.0.0.1")).unwrap();
        let start = Instant::now();
        assert_eq!(registry.until_close(&t.conn).await, CloseReason::Idle);
        assert_eq!(start.elapsed(), Duration::from_secs(60));

        let request = registry.begin(&t.conn);
        let started = Instant::now();
        let conn = t.conn.clone();
        let reg = registry.clone();
        let waiter = tokio::spawn(async move { reg.until_close(&conn).await });
        // A request in flight for longer than the idle timeout keeps the connection open.
        tokio::time::sleep(Duration::from_secs(150)).await;
        assert!(!waiter.is_finished());
        drop(request);
        assert_eq!(waiter.await.unwrap(), CloseReason::Idle);
        assert_eq!(started.elapsed(), Duration::from_secs(210));
    }

    #[tokio::test]
    async fn close_all_tells_every_connection_and_drained_waits_for_them() {
        let registry = Registry::new(limits(16, 16));
        let a = registry.admit(ip("10.0.0.1")).unwrap();
        let b = registry.admit(ip("10.0.0.2")).unwrap();
        registry.close_all();
        assert_eq!(registry.until_close(&a.conn).await, CloseReason::Shutdown);
        assert_eq!(
            registry.admit(ip("10.0.0.3")).err(),
            Some(Refused::ShuttingDown)
        );
        let drained = tokio::spawn({
            let registry = registry.clone();
            async move { registry.drained().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!drained.is_finished());
        drop(b);
        drained.await.unwrap();
    }

    #[test]
    fn rate_limited_warnings_count_what_they_held_back() {
        let start = Instant::now();
        let mut w = RateLimited::new(Duration::from_secs(10));
        assert_eq!(w.check(start), Some(0));
        for s in 1..10 {
            assert_eq!(w.check(start + Duration::from_secs(s)), None);
        }
        assert_eq!(w.check(start + Duration::from_secs(10)), Some(9));
        assert_eq!(w.check(start + Duration::from_secs(11)), None);
    }
}
